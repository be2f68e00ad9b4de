import { describe, expect, it } from 'vitest';
import { linearFit } from '../../../bench/linearity';

describe('bench linearity judgement (long-clip)', () => {
  it('recovers an affine law exactly, negative intercept included (window count F/4 − 3)', () => {
    const frames = [16, 64, 128, 256];
    const fit = linearFit(frames, frames.map((f) => 0.25 * f - 3));
    expect(fit.slope).toBeCloseTo(0.25, 12);
    expect(fit.intercept).toBeCloseTo(-3, 10);
    expect(fit.worstDeviation).toBeLessThan(1e-12);
  });

  it('tells the arena-stepped peak RSS (superlinear) from the grouped graph (linear): starter, 16/64/128 frames, MB', () => {
    // measured on this machine (docs/freenoise.md): all windows at once, then four windows per group
    const stepped = linearFit([16, 64, 128], [284, 1130, 3329]);
    expect(stepped.worstDeviation).toBeGreaterThan(0.1);
    expect(stepped.worstAt).toBe(16);
    const grouped = linearFit([16, 64, 128], [283, 944, 1722]);
    expect(grouped.worstDeviation).toBeLessThan(0.1);
    expect(grouped.slope).toBeGreaterThan(12);
    expect(grouped.slope).toBeLessThan(13.5);
  });

  it('refuses what is not a line', () => {
    expect(() => linearFit([16], [1])).toThrow(/two or more points/);
    expect(() => linearFit([16, 16], [1, 2])).toThrow(/two different x/);
  });
});
