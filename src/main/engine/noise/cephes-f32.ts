/**
 * Single-precision log and sincos as torch's AVX2 `normal_fill` computes them (`aten/src/ATen/native/cpu/
 * avx_mathfun.h`: Pommier's SSE/AVX ports of the Cephes `logf`/`sinf`/`cosf` polynomials), so that seeded noise is
 * bit-identical to torch on x86-64, not just close. Every `f32(…)` is one float32 instruction; `fma(a, b, c)`
 * marks where GCC contracts a multiply and the following add into one FMA (torch's AVX2 kernels are built with
 * -mfma; which pairs fuse was established against the torch 1.13 noise fixtures, 0 of 262,144 values differ).
 * An FMA of float32 inputs is emulated as the exact double product plus one rounding.
 */
const f32 = Math.fround;
const fma = (a: number, b: number, c: number): number => f32(a * b + c);

const scratch = new DataView(new ArrayBuffer(4));
function floatBits(x: number): number {
  scratch.setFloat32(0, x, true);
  return scratch.getInt32(0, true);
}
function bitsFloat(i: number): number {
  scratch.setInt32(0, i, true);
  return scratch.getFloat32(0, true);
}

const MIN_NORM_POS = bitsFloat(0x00800000);
const HALF_BITS = floatBits(0.5);
const SQRT_HALF = f32(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LOG_Q1 = f32(-2.1219444e-4);
const LOG_Q2 = f32(0.693359375);

/** Natural log of a positive float32 (torch's `log256_ps`, one lane). */
export function logF32(input: number): number {
  if (!(input > 0)) return Number.NaN;
  let x = Math.max(input, MIN_NORM_POS);
  const bits = floatBits(x);
  // Split into mantissa in [0.5, 1) and exponent.
  let e = f32((bits >>> 23) - 0x7f + 1);
  x = bitsFloat((bits & ~0x7f800000) | HALF_BITS);
  if (x < SQRT_HALF) {
    e = f32(e - 1);
    x = f32(f32(x - 1) + x);
  } else {
    x = f32(x - 1);
  }
  const z = f32(x * x);
  let y = LOG_P[0];
  for (let i = 1; i < LOG_P.length; i++) y = fma(y, x, LOG_P[i]);
  y = f32(y * x);
  y = fma(y, z, f32(e * LOG_Q1));
  y = f32(y - z * 0.5); // z·0.5 is exact
  x = f32(x + y);
  return fma(e, LOG_Q2, x);
}

const DP1 = f32(-0.78515625);
const DP2 = f32(-2.4187564849853515625e-4);
const DP3 = f32(-3.77489497744594108e-8);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);
const FOUR_OVER_PI = f32(1.27323954473516);

/** [sin x, cos x] of a float32 (torch's `sincos256_ps`, one lane). */
export function sinCosF32(input: number): [number, number] {
  let signSin = input < 0;
  let x = Math.abs(input);
  // Octant j (even), and the reduced argument x − j·π/4 in three float steps (Cody–Waite).
  let j = Math.trunc(f32(x * FOUR_OVER_PI));
  j = (j + 1) & ~1;
  const y = f32(j);
  x = fma(y, DP1, x);
  x = fma(y, DP2, x);
  x = fma(y, DP3, x);
  if (j & 4) signSin = !signSin;
  const signCos = ((~(j - 2)) & 4) !== 0;
  const useSinPolyForSin = (j & 2) === 0;

  const z = f32(x * x);
  let c = COS_P[0];
  c = fma(c, z, COS_P[1]);
  c = fma(c, z, COS_P[2]);
  c = f32(c * z);
  c = f32(c * z - z * 0.5); // fused multiply-subtract; z·0.5 is exact
  c = f32(c + 1);
  let s = SIN_P[0];
  s = fma(s, z, SIN_P[1]);
  s = fma(s, z, SIN_P[2]);
  s = f32(s * z);
  s = fma(s, x, x);

  const sin = useSinPolyForSin ? s : c;
  const cos = useSinPolyForSin ? c : s;
  return [signSin ? -sin : sin, signCos ? -cos : cos];
}
