/**
 * A small PNG encoder and decoder in plain TypeScript (zlib from node:zlib does the deflate).
 *
 * Why our own: the generation pipeline writes every frame as PNG and the exporter reads parameters back out of
 * PNG text chunks; a dependency for ~200 lines of well-specified format is not worth its weight.
 *
 * Encoder: 8-bit truecolour (colour type 2), no interlace, per-row adaptive filtering (the PNG spec's
 * "minimum sum of absolute differences" heuristic), optional text chunks: tEXt when the value is Latin-1,
 * iTXt (UTF-8, uncompressed) otherwise, so prompts in any language survive.
 *
 * Decoder: what real tools write — bit depths 1/2/4/8/16, colour types 0 (grey), 2 (RGB), 3 (palette),
 * 4 (grey+alpha), 6 (RGBA), Adam7 interlace; always returns 8-bit RGB (alpha dropped, 16-bit rounded to 8 bits as
 * ffmpeg does), plus every tEXt / zTXt / iTXt chunk. CRCs are checked so a damaged file fails loudly.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { StudioError } from '../../shared/errors';

export interface PngEncodeOptions {
  /** Text chunks (keyword → value); keywords are 1–79 Latin-1 characters. */
  text?: Record<string, string>;
  /** zlib level 0–9 (default 6): frames are written once, read often, so a middle setting. */
  compressionLevel?: number;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** width × height × 3 bytes, row-major, top row first. */
  rgb: Uint8Array;
  text: Record<string, string>;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: readonly Uint8Array[]): number {
  let c = 0xffffffff;
  for (const buf of parts) for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4, 8), data]), 0);
  return Buffer.concat([head, data, crc]);
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

function textChunk(keyword: string, value: string): Buffer {
  if (keyword.length < 1 || keyword.length > 79 || !isLatin1(keyword) || keyword.includes('\0')) {
    throw new StudioError('INVALID_PARAMS', `PNG text keyword "${keyword}" must be 1–79 Latin-1 characters.`, { keyword });
  }
  const key = Buffer.from(keyword, 'latin1');
  if (isLatin1(value)) return chunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(value, 'latin1')]));
  // iTXt: keyword \0 compressionFlag(0) compressionMethod(0) languageTag \0 translatedKeyword \0 text(UTF-8)
  return chunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')]));
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Encode 8-bit RGB pixels (width × height × 3 bytes) as a PNG file. */
export function encodePng(rgb: Uint8Array, width: number, height: number, opts: PngEncodeOptions = {}): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new StudioError('INVALID_PARAMS', `A PNG needs a positive integer size, got ${width}×${height}.`, { width, height });
  }
  const stride = width * 3;
  if (rgb.length !== stride * height) {
    throw new StudioError('INVALID_PARAMS', `Expected ${stride * height} RGB bytes for ${width}×${height}, got ${rgb.length}.`, {
      width,
      height,
      bytes: rgb.length,
    });
  }
  const bpp = 3;
  const raw = Buffer.alloc((stride + 1) * height);
  // All five filters in one pass over the row (one buffer each), then the row with the smallest sum wins.
  const rows = [0, 1, 2, 3, 4].map(() => new Uint8Array(stride));
  const [f0, f1, f2, f3, f4] = rows;
  const mag = (v: number) => (v < 128 ? v : 256 - v); // small positive and small negative both count as small
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const prev = row - stride;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (let x = 0; x < stride; x++) {
      const cur = rgb[row + x];
      const a = x >= bpp ? rgb[row + x - bpp] : 0;
      const b = y > 0 ? rgb[prev + x] : 0;
      const c = y > 0 && x >= bpp ? rgb[prev + x - bpp] : 0;
      const v1 = (cur - a) & 0xff;
      const v2 = (cur - b) & 0xff;
      const v3 = (cur - ((a + b) >> 1)) & 0xff;
      const v4 = (cur - paeth(a, b, c)) & 0xff;
      f0[x] = cur;
      f1[x] = v1;
      f2[x] = v2;
      f3[x] = v3;
      f4[x] = v4;
      s0 += mag(cur);
      s1 += mag(v1);
      s2 += mag(v2);
      s3 += mag(v3);
      s4 += mag(v4);
    }
    const sums = [s0, s1, s2, s3, s4];
    let bestType = 0;
    for (let t = 1; t < 5; t++) if (sums[t] < sums[bestType]) bestType = t;
    const out = y * (stride + 1);
    raw[out] = bestType;
    raw.set(rows[bestType], out + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const parts: Buffer[] = [SIGNATURE, chunk('IHDR', ihdr)];
  for (const [k, v] of Object.entries(opts.text ?? {})) parts.push(textChunk(k, v));
  parts.push(chunk('IDAT', deflateSync(raw, { level: opts.compressionLevel ?? 6 })));
  parts.push(chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

function bad(message: string, details?: Record<string, unknown>): StudioError {
  return new StudioError('FORMAT_MISMATCH', `Not a readable PNG: ${message}`, details);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** Adam7 passes: [xStart, yStart, xStep, yStep]. */
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function unfilter(data: Uint8Array, offset: number, rows: number, rowBytes: number, bpp: number): { out: Uint8Array; end: number } {
  const out = new Uint8Array(rows * rowBytes);
  let p = offset;
  for (let y = 0; y < rows; y++) {
    if (p + 1 + rowBytes > data.length) throw bad('image data is shorter than its size says');
    const type = data[p++];
    const row = y * rowBytes;
    const prev = row - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const v = data[p++];
      const a = x >= bpp ? out[row + x - bpp] : 0;
      const b = y > 0 ? out[prev + x] : 0;
      const c = y > 0 && x >= bpp ? out[prev + x - bpp] : 0;
      switch (type) {
        case 0: out[row + x] = v; break;
        case 1: out[row + x] = (v + a) & 0xff; break;
        case 2: out[row + x] = (v + b) & 0xff; break;
        case 3: out[row + x] = (v + ((a + b) >> 1)) & 0xff; break;
        case 4: out[row + x] = (v + paeth(a, b, c)) & 0xff; break;
        default: throw bad(`unknown row filter ${type}`);
      }
    }
  }
  return { out, end: p };
}

/** Read a PNG file into 8-bit RGB plus its text chunks. */
export function decodePng(buf: Uint8Array): DecodedPng {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw bad('missing PNG signature');
  let p = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Buffer[] = [];
  const text: Record<string, string> = {};
  let sawEnd = false;
  while (p < b.length) {
    if (p + 12 > b.length) throw bad('truncated chunk header');
    const len = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    if (p + 12 + len > b.length) throw bad(`truncated ${type} chunk`);
    const data = b.subarray(p + 8, p + 8 + len);
    const crc = b.readUInt32BE(p + 8 + len);
    if (crc32([b.subarray(p + 4, p + 8), data]) !== crc) throw bad(`CRC mismatch in ${type} chunk`, { offset: p });
    p += 12 + len;
    if (type === 'IHDR') {
      if (len !== 13) throw bad('IHDR has the wrong length');
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colorType = data[9];
      interlace = data[12];
      if (!(colorType in CHANNELS) || !ALLOWED_DEPTHS[colorType].includes(depth)) {
        throw bad(`unsupported colour type ${colorType} at bit depth ${depth}`);
      }
      if (interlace > 1) throw bad(`unknown interlace method ${interlace}`);
      if (width < 1 || height < 1) throw bad('zero-sized image');
    } else if (type === 'PLTE') {
      palette = new Uint8Array(data);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'tEXt') {
      const z = data.indexOf(0);
      if (z > 0) text[data.toString('latin1', 0, z)] = data.toString('latin1', z + 1);
    } else if (type === 'zTXt') {
      const z = data.indexOf(0);
      if (z > 0) text[data.toString('latin1', 0, z)] = inflateSync(data.subarray(z + 2)).toString('latin1');
    } else if (type === 'iTXt') {
      const z = data.indexOf(0);
      if (z > 0) {
        const compressed = data[z + 1] === 1;
        const langEnd = data.indexOf(0, z + 3);
        const transEnd = langEnd >= 0 ? data.indexOf(0, langEnd + 1) : -1;
        if (transEnd >= 0) {
          const body = data.subarray(transEnd + 1);
          text[data.toString('latin1', 0, z)] = (compressed ? inflateSync(body) : body).toString('utf8');
        }
      }
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
  }
  if (colorType < 0) throw bad('missing IHDR chunk');
  if (idat.length === 0) throw bad('missing image data');
  if (!sawEnd) throw bad('missing IEND chunk (file truncated?)');
  if (colorType === 3 && !palette) throw bad('palette image without a PLTE chunk');

  let data: Uint8Array;
  try {
    data = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw bad('image data does not inflate', { cause: (e as Error).message });
  }
  const channels = CHANNELS[colorType];
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const rgb = new Uint8Array(width * height * 3);

  // Write one decoded (unfiltered) scanline's pixels into the RGB output at the given positions.
  const sample = (row: Uint8Array, rowOff: number, i: number): number => {
    if (depth === 8) return row[rowOff + i];
    if (depth === 16) return Math.round(((row[rowOff + 2 * i] * 256 + row[rowOff + 2 * i + 1]) * 255) / 65535);
    const bit = i * depth;
    const byte = row[rowOff + (bit >> 3)];
    const shift = 8 - depth - (bit & 7);
    return (byte >> shift) & ((1 << depth) - 1);
  };
  const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  const put = (row: Uint8Array, rowOff: number, count: number, xs: number, xStep: number, yOut: number) => {
    for (let i = 0; i < count; i++) {
      const o = (yOut * width + xs + i * xStep) * 3;
      if (colorType === 3) {
        const idx = sample(row, rowOff, i) * 3;
        rgb[o] = palette![idx] ?? 0;
        rgb[o + 1] = palette![idx + 1] ?? 0;
        rgb[o + 2] = palette![idx + 2] ?? 0;
      } else if (colorType === 0 || colorType === 4) {
        const g = Math.round(sample(row, rowOff, i * channels) * scale);
        rgb[o] = g;
        rgb[o + 1] = g;
        rgb[o + 2] = g;
      } else {
        rgb[o] = sample(row, rowOff, i * channels);
        rgb[o + 1] = sample(row, rowOff, i * channels + 1);
        rgb[o + 2] = sample(row, rowOff, i * channels + 2);
      }
    }
  };

  if (interlace === 0) {
    const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
    const { out } = unfilter(data, 0, height, rowBytes, bpp);
    for (let y = 0; y < height; y++) put(out, y * rowBytes, width, 0, 1, y);
  } else {
    let off = 0;
    for (const [x0, y0, dx, dy] of ADAM7) {
      const pw = Math.ceil((width - x0) / dx);
      const ph = Math.ceil((height - y0) / dy);
      if (pw <= 0 || ph <= 0) continue;
      const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
      const { out, end } = unfilter(data, off, ph, rowBytes, bpp);
      off = end;
      for (let j = 0; j < ph; j++) put(out, j * rowBytes, pw, x0, dx, y0 + j * dy);
    }
  }
  return { width, height, rgb, text };
}

/** Width and height from the IHDR chunk, without decoding the image. */
export function readPngSize(buf: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 24 || !b.subarray(0, 8).equals(SIGNATURE) || b.toString('latin1', 12, 16) !== 'IHDR') {
    throw bad('missing PNG signature or IHDR');
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** The text chunks only (tEXt, zTXt, iTXt), walking chunk headers without inflating the image. */
export function readPngText(buf: Uint8Array): Record<string, string> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw bad('missing PNG signature');
  const text: Record<string, string> = {};
  let p = 8;
  while (p + 12 <= b.length) {
    const len = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    if (p + 12 + len > b.length) break;
    const data = b.subarray(p + 8, p + 8 + len);
    p += 12 + len;
    if (type === 'IEND') break;
    const z = data.indexOf(0);
    if (z <= 0) continue;
    const key = data.toString('latin1', 0, z);
    if (type === 'tEXt') text[key] = data.toString('latin1', z + 1);
    else if (type === 'zTXt') text[key] = inflateSync(data.subarray(z + 2)).toString('latin1');
    else if (type === 'iTXt') {
      const langEnd = data.indexOf(0, z + 3);
      const transEnd = langEnd >= 0 ? data.indexOf(0, langEnd + 1) : -1;
      if (transEnd < 0) continue;
      const body = data.subarray(transEnd + 1);
      text[key] = (data[z + 1] === 1 ? inflateSync(body) : body).toString('utf8');
    }
  }
  return text;
}

/**
 * Insert text chunks right after IHDR of an existing PNG (one written by ffmpeg, say). Existing chunks with the
 * same keywords are dropped so the call is idempotent.
 */
export function addPngText(buf: Uint8Array, text: Record<string, string>): Buffer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  readPngSize(b);
  const ihdrEnd = 8 + 12 + b.readUInt32BE(8);
  const keep: Buffer[] = [b.subarray(0, ihdrEnd)];
  for (const [k, v] of Object.entries(text)) keep.push(textChunk(k, v));
  let p = ihdrEnd;
  while (p + 12 <= b.length) {
    const len = b.readUInt32BE(p);
    const type = b.toString('latin1', p + 4, p + 8);
    const end = Math.min(b.length, p + 12 + len);
    const data = b.subarray(p + 8, p + 8 + len);
    const z = data.indexOf(0);
    const key = z > 0 ? data.toString('latin1', 0, z) : '';
    const isOurs = (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') && key in text;
    if (!isOurs) keep.push(b.subarray(p, end));
    p = end;
  }
  return Buffer.concat(keep);
}
