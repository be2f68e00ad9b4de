import { StudioError } from '../../../shared/errors';
import { halfToFloatTable } from './float16';
import { DTYPE_BYTES, type DType } from './tensor';

export { floatToHalf, halfToFloat } from './float16';

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
      const table = halfToFloatTable();
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

/** 16-bit little-endian values as a Uint16Array (copied once when the bytes are not 2-aligned). */
function u16View(bytes: Uint8Array, n: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new Uint16Array(bytes.slice().buffer, 0, n);
}

export const DTYPES: readonly DType[] = Object.keys(DTYPE_BYTES) as DType[];

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}
