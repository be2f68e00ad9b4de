/**
 * OpenCV 4.6's 8-bit `cvtColor` BGR↔HSV (H in 0..179 = degrees/2), as AnimateLCM's `adjust_colors` uses them.
 * BGR→HSV is integer arithmetic (hsv_shift 12) and identical on every platform. HSV→BGR is float32 with
 * platform-dependent rounding: this is the scalar path (round half to even, FMA in 1 − s·f), which OpenCV takes
 * for every pixel of rows narrower than its SIMD block (32 pixels on AVX2) and for the tail of wider rows; the
 * SIMD part of wide rows truncates instead, so on those pixels this port can differ from a given OpenCV build by
 * one level.
 */

const SHIFT = 12;
const f = Math.fround;

/** cvRound: nearest, ties to even (lrint). */
function cvRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const SDIV = Int32Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : cvRound((255 << SHIFT) / i)));
const HDIV = Int32Array.from({ length: 256 }, (_, i) => (i === 0 ? 0 : cvRound((180 << SHIFT) / (6 * i))));

/** One BGR pixel → [H, S, V]. */
export function bgrToHsv(b: number, g: number, r: number): [number, number, number] {
  const v = Math.max(b, g, r);
  const vmin = Math.min(b, g, r);
  const diff = v - vmin;
  const s = (diff * SDIV[v] + (1 << (SHIFT - 1))) >> SHIFT;
  let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
  h = (h * HDIV[diff] + (1 << (SHIFT - 1))) >> SHIFT;
  if (h < 0) h += 180;
  return [h, s, v];
}

const SECTORS = [
  [1, 3, 0],
  [1, 0, 2],
  [3, 0, 1],
  [0, 2, 1],
  [0, 1, 3],
  [2, 1, 0],
];
const HSCALE = f(6 / 180);
const INV255 = f(1 / 255);

/** fma in float32: the product and sum rounded once (exact product in float64, then one float32 rounding). */
function fmaF32(a: number, b: number, c: number): number {
  return f(a * b + c);
}

/** One HSV pixel (H 0..180, 180 wraps to 0) → [B, G, R]. */
export function hsvToBgr(H: number, S: number, V: number): [number, number, number] {
  const s = f(S * INV255);
  const v = f(V * INV255);
  let b: number;
  let g: number;
  let r: number;
  if (s === 0) {
    b = g = r = v;
  } else {
    let h = f(H * HSCALE);
    h = f(h % 6);
    let sector = Math.floor(h);
    h = f(h - sector);
    if (sector < 0 || sector >= 6) {
      sector = 0;
      h = 0;
    }
    const tab = [v, f(v * f(1 - s)), f(v * fmaF32(-s, h, 1)), f(v * f(1 - f(s * f(1 - h))))];
    const sec = SECTORS[sector];
    b = tab[sec[0]];
    g = tab[sec[1]];
    r = tab[sec[2]];
  }
  const u8 = (x: number): number => Math.min(255, Math.max(0, cvRound(f(x * 255))));
  return [u8(b), u8(g), u8(r)];
}
