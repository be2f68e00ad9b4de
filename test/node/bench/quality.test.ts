import { describe, expect, it } from 'vitest';
import { diffStats, psnr8 } from '../../../bench/quality';

describe('bench quality figures (precision suite)', () => {
  it('PSNR of 8-bit frames: 10·log10(255² / MSE) over every byte of the clip', () => {
    const ref = [Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256), Uint8Array.from({ length: 48 }, (_, i) => (i * 11) % 200)];
    expect(psnr8(ref, ref.map((x) => x.slice()))).toBe(Number.POSITIVE_INFINITY);
    // every byte off by one: MSE 1
    const offByOne = ref.map((x) => x.map((v) => (v === 255 ? 254 : v + 1)));
    expect(psnr8(offByOne, ref)).toBeCloseTo(20 * Math.log10(255), 10);
    // black against white: MSE 255², 0 dB
    expect(psnr8([new Uint8Array(10)], [new Uint8Array(10).fill(255)])).toBeCloseTo(0, 10);
    // one frame of two wrong by 4 everywhere: MSE = 16 / 2 (the clip is one signal, not a mean of per-frame PSNRs)
    const oneBad = [ref[0].map((v) => (v >= 252 ? v - 4 : v + 4)), ref[1].slice()];
    expect(psnr8(oneBad, ref)).toBeCloseTo(10 * Math.log10((255 * 255) / 8), 10);
  });

  it('PSNR refuses clips whose frames or frame sizes differ', () => {
    expect(() => psnr8([new Uint8Array(4)], [new Uint8Array(4), new Uint8Array(4)])).toThrow(/1 images against 2/);
    expect(() => psnr8([new Uint8Array(3)], [new Uint8Array(4)])).toThrow(/image 0 has 3 bytes against 4/);
    expect(() => psnr8([], [])).toThrow();
  });

  it('max and mean |Δ| and relative L2 of a float output against its reference', () => {
    const ref = Float32Array.of(3, -4, 0, 0);
    const got = Float32Array.of(3, -4, 1, -2);
    const d = diffStats(got, ref);
    expect(d.maxAbs).toBe(2);
    expect(d.meanAbs).toBeCloseTo(3 / 4, 12);
    expect(d.relL2).toBeCloseTo(Math.sqrt(5) / 5, 6); // ‖(0,0,1,−2)‖ / ‖(3,−4,0,0)‖
    expect(diffStats(ref, ref)).toEqual({ maxAbs: 0, meanAbs: 0, relL2: 0 });
    expect(() => diffStats(Float32Array.of(1), ref)).toThrow(/1 values against 4/);
  });
});
