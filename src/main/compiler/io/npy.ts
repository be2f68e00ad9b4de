import { readFileSync, writeFileSync } from 'node:fs';

/** NumPy .npy (v1/v2/v3, little-endian, C order): the format of the reference fixtures. */
export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NpyArray {
  descr: string;
  shape: number[];
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function parseNpy(buf: Uint8Array, source = '<buffer>'): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new Error(`${source}: not a .npy file`);
  }
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${source}: unreadable .npy header ${header}`);
  }
  if (fortran === 'True') throw new Error(`${source}: Fortran-ordered arrays are not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number.parseInt(s, 10));
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  // Copy so the typed array is aligned regardless of the header length.
  // (new Uint8Array(subarray), not buf.slice: on a Node Buffer, slice is a view into the whole file buffer.)
  const bytes = new Uint8Array(buf.subarray(start, start + count * itemSize(descr, source)));
  let data: NpyData;
  switch (descr) {
    case '<f4': data = new Float32Array(bytes.buffer, 0, count); break;
    case '<f8': data = new Float64Array(bytes.buffer, 0, count); break;
    case '<i8': data = new BigInt64Array(bytes.buffer, 0, count); break;
    case '<i4': data = new Int32Array(bytes.buffer, 0, count); break;
    case '|u1': data = new Uint8Array(bytes.buffer, 0, count); break;
    default: throw new Error(`${source}: unsupported dtype ${descr}`);
  }
  return { descr, shape, data };
}

function itemSize(descr: string, source: string): number {
  switch (descr) {
    case '<f4': case '<i4': return 4;
    case '<f8': case '<i8': return 8;
    case '|u1': return 1;
    default: throw new Error(`${source}: unsupported dtype ${descr}`);
  }
}

export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** The array as float32, whatever its stored numeric type. */
export function readNpyF32(path: string): { shape: number[]; data: Float32Array } {
  const a = readNpy(path);
  if (a.data instanceof Float32Array) return { shape: a.shape, data: a.data };
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  return { shape: a.shape, data: out };
}

export function writeNpyF32(path: string, shape: number[], data: Float32Array): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  writeFileSync(path, out);
}
