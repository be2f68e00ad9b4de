/**
 * OpenCV 4.6's 8-bit `cvtColor` BGR↔HSV (H in 0..179 = degrees/2), as AnimateLCM's `adjust_colors` uses them.
 * BGR→HSV is integer arithmetic (hsv_shift 12) and identical on every platform. HSV→BGR is float32 and
 * platform-dependent: OpenCV converts each row in blocks of 32 pixels with its vector path (AVX2 on x86-64;
 * truncates, fused 1 − s·h) and the rest with its scalar path (round half to even, FMA only in 1 − s·h).
 * `hsvToBgr` is the scalar path, `hsvToBgrVector` the vector one, `hsvRowToBgr` a row as cv2 does it. Both were
 * checked against Debian's cv2 4.6 on all 181·256² triples; other vector widths (SSE/NEON 16, AVX-512 64
 * pixels) would only move the border between the two.
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

/**
 * Pixels per block of OpenCV's vector HSV→BGR loop: 4 registers of float32 lanes, 4 × 8 on the AVX2 build that
 * Debian's python3-opencv dispatches to on x86-64 (the build the reference fixtures were made with).
 */
export const OPENCV_HSV_VECTOR_PIXELS = 32;

/**
 * One HSV pixel → [B, G, R] as OpenCV's vector loop computes it (HSV2RGB_simd + HSV2RGB_b): the sector from
 * truncations (no fmod), 1 − s·h and 1 − s·(1 − h) fused (the AVX2 build contracts them into FMAs), no special
 * case for s = 0 (every tab is then v), and ×255 TRUNCATED, where the scalar path rounds.
 */
export function hsvToBgrVector(H: number, S: number, V: number): [number, number, number] {
  const s = f(S * INV255);
  const v = f(V * INV255);
  let h = f(H * HSCALE);
  const pre = Math.trunc(h);
  h = f(h - pre);
  const sector = pre - Math.trunc(f(pre * ONE_SIXTH)) * 6;
  const tab = [v, f(v * f(1 - s)), f(v * fmaF32(-s, h, 1)), f(v * fmaF32(-s, f(1 - h), 1))];
  const b = sector < 2 ? tab[1] : sector === 2 ? tab[3] : sector <= 4 ? tab[0] : tab[2];
  const g = sector < 1 ? tab[3] : sector <= 2 ? tab[0] : sector === 3 ? tab[2] : tab[1];
  const r = sector < 1 ? tab[0] : sector === 1 ? tab[2] : sector <= 3 ? tab[1] : sector === 4 ? tab[3] : tab[0];
  const u8 = (x: number): number => Math.min(255, Math.max(0, Math.trunc(f(x * 255))));
  return [u8(b), u8(g), u8(r)];
}

const ONE_SIXTH = f(1 / 6);

/**
 * One row of HSV pixels → BGR as cv2.cvtColor(COLOR_HSV2BGR) converts a row: whole blocks of
 * OPENCV_HSV_VECTOR_PIXELS by the vector path, the remaining pixels by the scalar path.
 */
export function hsvRowToBgr(hsv: Uint8Array, out: Uint8Array, width: number): void {
  const vectorEnd = Math.floor(width / OPENCV_HSV_VECTOR_PIXELS) * OPENCV_HSV_VECTOR_PIXELS;
  for (let p = 0; p < width; p++) {
    const [b, g, r] = (p < vectorEnd ? hsvToBgrVector : hsvToBgr)(hsv[p * 3], hsv[p * 3 + 1], hsv[p * 3 + 2]);
    out[p * 3] = b;
    out[p * 3 + 1] = g;
    out[p * 3 + 2] = r;
  }
}
