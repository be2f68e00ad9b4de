import { inflateRawSync } from 'node:zlib';
import { StudioError } from '../../../shared/errors';
import type { FileRange } from './file-range';

/**
 * Just enough of ZIP (incl. ZIP64) to read PyTorch checkpoints: the central directory, and each entry's data
 * located by byte range. torch.save writes every entry STORED (no compression, data aligned), so tensor
 * storages are read lazily straight from the file; small deflated entries are inflated with a size cap.
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export const ZIP_LIMITS = {
  maxEntries: 1_000_000,
  maxCentralDirectoryBytes: 512 * 1024 * 1024,
  maxInflatedBytes: 64 * 1024 * 1024,
};

const EOCD = 0x06054b50;
const EOCD64_LOCATOR = 0x07064b50;
const EOCD64 = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function bad(path: string, why: string): StudioError {
  return new StudioError('PICKLE_INVALID', `${path} looks like a PyTorch checkpoint (zip) but ${why}. The file is damaged or incomplete; download it again.`, { path });
}

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(n);
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  /** Data offsets found so far (each costs one local-header read). */
  private readonly offsets = new Map<ZipEntry, number>();

  constructor(private readonly file: FileRange) {
    const path = file.path;
    const tailLen = Math.min(file.size, 65535 + 22);
    if (tailLen < 22) throw bad(path, 'it is too short');
    const tailStart = file.size - tailLen;
    const tail = file.read(tailStart, tailLen);
    const tv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      throw new StudioError('FILE_TRUNCATED', `${path} is a zip archive (PyTorch checkpoint) whose end is missing: the download is incomplete. Download it again.`, { path });
    }
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    const locAt = tailStart + eocd - 20;
    if ((count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && locAt >= 0) {
      const loc = new DataView(file.read(locAt, 20).buffer);
      if (loc.getUint32(0, true) === EOCD64_LOCATOR) {
        const e64At = u64(loc, 8);
        if (e64At + 56 > file.size) throw bad(path, 'its ZIP64 directory is outside the file');
        const e64 = new DataView(file.read(e64At, 56).buffer);
        if (e64.getUint32(0, true) !== EOCD64) throw bad(path, 'its ZIP64 directory is damaged');
        count = u64(e64, 32);
        cdSize = u64(e64, 40);
        cdOffset = u64(e64, 48);
      }
    }
    if (count > ZIP_LIMITS.maxEntries) throw new StudioError('LIMIT_EXCEEDED', `${path} has ${count} zip entries, more than a checkpoint can have.`, { path });
    if (cdSize > ZIP_LIMITS.maxCentralDirectoryBytes || cdOffset + cdSize > file.size) {
      throw new StudioError('FILE_TRUNCATED', `${path} is a zip archive (PyTorch checkpoint) whose directory lies outside the file: the download is incomplete or damaged. Download it again.`, { path });
    }
    const cd = file.read(cdOffset, cdSize);
    const v = new DataView(cd.buffer);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 46 > cdSize || v.getUint32(at, true) !== CENTRAL) throw bad(path, 'its directory is damaged');
      const method = v.getUint16(at + 10, true);
      let compressedSize = v.getUint32(at + 20, true);
      let size = v.getUint32(at + 24, true);
      const nameLen = v.getUint16(at + 28, true);
      const extraLen = v.getUint16(at + 30, true);
      const commentLen = v.getUint16(at + 32, true);
      let localHeaderOffset = v.getUint32(at + 42, true);
      if (at + 46 + nameLen + extraLen + commentLen > cdSize) throw bad(path, 'its directory is damaged');
      const name = new TextDecoder().decode(cd.subarray(at + 46, at + 46 + nameLen));
      // ZIP64 extended information: present fields replace the 0xffffffff placeholders, in this order.
      let x = at + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = v.getUint16(x, true);
        const len = v.getUint16(x + 2, true);
        if (id === 0x0001) {
          let p = x + 4;
          const end = Math.min(p + len, xEnd);
          if (size === 0xffffffff && p + 8 <= end) {
            size = u64(v, p);
            p += 8;
          }
          if (compressedSize === 0xffffffff && p + 8 <= end) {
            compressedSize = u64(v, p);
            p += 8;
          }
          if (localHeaderOffset === 0xffffffff && p + 8 <= end) localHeaderOffset = u64(v, p);
        }
        x += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      at += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** Absolute file offset of an entry's data (after its local header). */
  dataOffset(e: ZipEntry): number {
    const known = this.offsets.get(e);
    if (known !== undefined) return known;
    const path = this.file.path;
    if (e.localHeaderOffset + 30 > this.file.size) throw bad(path, `entry ${e.name} lies outside the file`);
    const h = new DataView(this.file.read(e.localHeaderOffset, 30).buffer);
    if (h.getUint32(0, true) !== LOCAL) throw bad(path, `entry ${e.name} is damaged`);
    const start = e.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
    if (start + e.compressedSize > this.file.size) {
      throw new StudioError('FILE_TRUNCATED', `${path} is cut off inside "${e.name}": the download is incomplete. Download it again.`, { path, entry: e.name });
    }
    this.offsets.set(e, start);
    return start;
  }

  /** A byte range inside a STORED entry, without reading the rest. */
  readRange(e: ZipEntry, offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > e.size) throw bad(this.file.path, `a tensor reaches past the end of its storage "${e.name}"`);
    if (e.method === 0) return this.file.read(this.dataOffset(e) + offset, length);
    return this.readAll(e).subarray(offset, offset + length);
  }

  readAll(e: ZipEntry): Uint8Array {
    const raw = this.file.read(this.dataOffset(e), e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method !== 8) throw bad(this.file.path, `entry ${e.name} uses an unsupported compression (${e.method})`);
    if (e.size > ZIP_LIMITS.maxInflatedBytes) throw new StudioError('LIMIT_EXCEEDED', `${this.file.path}: compressed entry ${e.name} is too large to unpack.`, { path: this.file.path });
    try {
      const out = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch {
      throw bad(this.file.path, `entry ${e.name} cannot be decompressed`);
    }
  }
}
