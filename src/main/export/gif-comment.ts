/**
 * GIF Comment Extensions (GIF89a, label 0xFE), written and read by walking the block structure.
 *
 * Why: ffmpeg's GIF muxer does not write `-metadata comment` (5.x), so the exporter inserts the comments
 * itself after ffmpeg finishes, before the file is renamed into place. Comments go right after the global
 * colour table, ahead of every frame, where any reader that walks the blocks finds them. Text is UTF-8
 * (the spec says 7-bit ASCII; every reader we know passes bytes through).
 */
import { StudioError } from '../../shared/errors';

function bad(message: string): StudioError {
  return new StudioError('FORMAT_MISMATCH', `Not a readable GIF: ${message}`);
}

/** Offset just past the header, logical screen descriptor and global colour table. */
function headerEnd(b: Buffer): number {
  if (b.length < 13) throw bad('file too short');
  const sig = b.toString('latin1', 0, 6);
  if (sig !== 'GIF89a' && sig !== 'GIF87a') throw bad('missing GIF signature');
  const packed = b[10];
  const gct = packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0;
  if (13 + gct > b.length) throw bad('truncated colour table');
  return 13 + gct;
}

/** Skip a run of data sub-blocks starting at `p`; returns the offset after the 0 terminator. */
function skipSubBlocks(b: Buffer, p: number): number {
  while (p < b.length) {
    const n = b[p];
    p += 1 + n;
    if (n === 0) return p;
  }
  throw bad('truncated data sub-blocks');
}

function readSubBlocks(b: Buffer, p: number): { data: Buffer; end: number } {
  const parts: Buffer[] = [];
  while (p < b.length) {
    const n = b[p];
    if (n === 0) return { data: Buffer.concat(parts), end: p + 1 };
    if (p + 1 + n > b.length) break;
    parts.push(b.subarray(p + 1, p + 1 + n));
    p += 1 + n;
  }
  throw bad('truncated data sub-blocks');
}

function commentBlock(text: string): Buffer {
  const data = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [Buffer.from([0x21, 0xfe])];
  for (let o = 0; o < data.length; o += 255) {
    const piece = data.subarray(o, Math.min(o + 255, data.length));
    parts.push(Buffer.from([piece.length]), piece);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Every comment in the file, in order. */
export function readGifComments(buf: Uint8Array): string[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = headerEnd(b);
  const out: string[] = [];
  while (p < b.length) {
    const id = b[p];
    if (id === 0x3b) break; // trailer
    if (id === 0x21) {
      const label = b[p + 1];
      if (label === 0xfe) {
        const { data, end } = readSubBlocks(b, p + 2);
        out.push(data.toString('utf8'));
        p = end;
      } else {
        p = skipSubBlocks(b, p + 2);
      }
    } else if (id === 0x2c) {
      if (p + 10 > b.length) throw bad('truncated image descriptor');
      const packed = b[p + 9];
      const lct = packed & 0x80 ? 3 * (1 << ((packed & 7) + 1)) : 0;
      p = skipSubBlocks(b, p + 10 + lct + 1); // +1: LZW minimum code size
    } else {
      throw bad(`unknown block 0x${id.toString(16)} at offset ${p}`);
    }
  }
  return out;
}

/** A copy of the GIF with the comments inserted before the first frame (a GIF87a header becomes GIF89a). */
export function insertGifComments(buf: Uint8Array, comments: readonly string[]): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const at = headerEnd(b);
  const head = Buffer.from(b.subarray(0, at));
  head.write('GIF89a', 0, 'latin1');
  return Buffer.concat([head, ...comments.map(commentBlock), b.subarray(at)]);
}
