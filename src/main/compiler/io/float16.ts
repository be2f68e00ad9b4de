/**
 * Float32 ↔ IEEE binary16 conversion, the one implementation: readers of F16 checkpoints, the emitter (fp16
 * weight files) and the runtime (fp16 graph inputs/outputs arrive as Uint16Array bits). Works on the float32 bit pattern directly so a
 * full-size UNet (860 M values) converts in seconds, with round-to-nearest-even like numpy/torch `.half()`.
 */

/** float32 bit pattern → half bits, round-to-nearest-even; overflow goes to ±Inf, NaN stays NaN. */
export function f32BitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // half subnormal: value = h · 2^-24
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // a carry out of the mantissa correctly bumps the exponent (up to Inf)
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function f32ToF16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToHalf(bits[i]);
  return out;
}

let table: Float32Array | undefined;

/** Every half value as float32 (256 KiB, built once): decoding becomes one lookup. */
function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  const u = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = (sign ? -1 : 1) * mant * 5.960464477539063e-8;
    else if (exp === 0x1f) u[h] = sign | 0x7f800000 | (mant << 13);
    else u[h] = sign | ((exp + 112) << 23) | (mant << 13);
  }
  table = t;
  return t;
}

export function f16ToF32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = halfTable();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
  return out;
}

const ONE_F32 = new Float32Array(1);
const ONE_U32 = new Uint32Array(ONE_F32.buffer);

/** One number → half bits, round-to-nearest-even. */
export function floatToHalf(f: number): number {
  ONE_F32[0] = f;
  return f32BitsToHalf(ONE_U32[0]);
}

/** Half bits → number, exact (every half is representable as a float32). */
export function halfToFloat(h: number): number {
  return halfTable()[h & 0xffff];
}

/** The decode table itself, for bulk readers that index it directly. */
export function halfToFloatTable(): Float32Array {
  return halfTable();
}
