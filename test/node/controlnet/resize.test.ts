import { describe, expect, it } from 'vitest';
import { resizeLanczos } from '../../../src/shared/control/resize-lanczos';
import { rng } from '../unet/naive-unet';

/**
 * The control-image resize (Pillow's Lanczos, fixed point) against an independent float64 separable Lanczos-3
 * with the same support rule: within 1.5 grey levels (final rounding 0.5, plus the 8-bit intermediate's 0.5 times
 * the vertical kernel's absolute sum, ≤ 1.3 for Lanczos-3 when enlarging); same size is a copy. Byte equality with Pillow: resize-pillow.test.ts.
 */

function floatLanczos(src: Uint8Array, w: number, h: number, c: number, ow: number, oh: number): Float64Array {
  const L = (x: number): number => (x === 0 ? 1 : x <= -3 || x >= 3 ? 0 : (3 * Math.sin(Math.PI * x) * Math.sin((Math.PI * x) / 3)) / (Math.PI * Math.PI * x * x));
  const weights = (n: number, on: number): Array<{ lo: number; k: number[] }> => {
    const scale = n / on;
    const fs = Math.max(1, scale);
    return Array.from({ length: on }, (_, o) => {
      const center = (o + 0.5) * scale;
      const lo = Math.max(0, Math.trunc(center - 3 * fs + 0.5));
      const hi = Math.min(n, Math.trunc(center + 3 * fs + 0.5));
      const k = Array.from({ length: hi - lo }, (_, i) => L((i + lo - center + 0.5) / fs));
      const s = k.reduce((a, b) => a + b, 0);
      return { lo, k: k.map((x) => x / s) };
    });
  };
  const wx = weights(w, ow);
  const wy = weights(h, oh);
  const out = new Float64Array(ow * oh * c);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        wy[y].k.forEach((ky, j) => {
          let row = 0;
          wx[x].k.forEach((kx, i) => (row += kx * src[((wy[y].lo + j) * w + wx[x].lo + i) * c + ch]));
          s += ky * Math.min(255, Math.max(0, row));
        });
        out[(y * ow + x) * c + ch] = Math.min(255, Math.max(0, s));
      }
  return out;
}

describe('resizeLanczos', () => {
  const r = rng(3);
  const w = 37;
  const h = 29;
  const src = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i % 97 < 40 ? 30 : 220) + Math.round(r() * 10));

  it.each([
    [64, 48],
    [16, 12],
    [37, 64],
    [20, 29],
  ])('to %i×%i is within 1.5 levels of a float64 Lanczos-3', (ow, oh) => {
    const got = resizeLanczos(src, w, h, 3, ow, oh);
    const ref = floatLanczos(src, w, h, 3, ow, oh);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
    expect(got.length).toBe(ow * oh * 3);
    expect(worst).toBeLessThanOrEqual(1.5);
  });

  it('same size is a copy', () => {
    const got = resizeLanczos(src, w, h, 3, w, h);
    expect(Array.from(got)).toEqual(Array.from(src));
    expect(got).not.toBe(src);
  });
});
