import { StudioError } from '../../../shared/errors';
import { DTYPE_BYTES, type DType } from './tensor';

/**
 * Little-endian bytes in any stored dtype → float32. Shared by every container reader so F16/BF16 maths is
 * written once. The input need not be aligned (zip entries and safetensors offsets can be odd), so values
 * are read through a DataView rather than a typed-array cast.
 */
export function bytesToF32(bytes: Uint8Array, dtype: DType): Float32Array {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new StudioError('SAFETENSORS_INVALID', `Tensor data of ${bytes.byteLength} bytes is not a whole number of ${dtype} values.`);
  }
  const n = bytes.byteLength / size;
  const out = new Float32Array(n);
  if (dtype === 'F32' && bytes.byteOffset % 4 === 0) {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n));
    return out;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
      break;
    case 'F16': {
      // A 65 536-entry table turns the conversion into one load per value (fp16 checkpoints are ~1 G values).
      const table = halfTable();
      const h = u16View(bytes, n);
      for (let i = 0; i < n; i++) out[i] = table[h[i]];
      break;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift it back into place.
      const u = new Uint32Array(out.buffer);
      const h = u16View(bytes, n);
      for (let i = 0; i < n; i++) u[i] = h[i] << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(v.getBigInt64(i * 8, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      break;
    case 'U8':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i);
      break;
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = v.getUint8(i) !== 0 ? 1 : 0;
      break;
  }
  return out;
}

let HALF_TABLE: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** 16-bit little-endian values as a Uint16Array (copied once when the bytes are not 2-aligned). */
function u16View(bytes: Uint8Array, n: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new Uint16Array(bytes.slice().buffer, 0, n);
}

const HALF_F32 = new Float32Array(1);
const HALF_U32 = new Uint32Array(HALF_F32.buffer);

/** IEEE 754 binary16 → number, exact (every half is representable as a float32). */
export function halfToFloat(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) {
    // zero or subnormal: mant · 2^-24
    const m = mant * 5.960464477539063e-8;
    return sign ? -m : m;
  }
  if (exp === 0x1f) {
    HALF_U32[0] = sign | 0x7f800000 | (mant << 13);
    return HALF_F32[0];
  }
  HALF_U32[0] = sign | ((exp + 112) << 23) | (mant << 13);
  return HALF_F32[0];
}

/** float32 → binary16 bits, round-to-nearest-even (for writers that store F16). */
export function floatToHalf(f: number): number {
  HALF_F32[0] = f;
  const x = HALF_U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is the correctly rounded result (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

export const DTYPES: readonly DType[] = Object.keys(DTYPE_BYTES) as DType[];

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}
