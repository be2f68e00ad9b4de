import { describe, expect, it } from 'vitest';
import { freeNoiseLatents } from '../../../src/main/engine/freenoise/initial-noise';
import { interpolateKeyframes, keyframeSchedule } from '../../../src/main/engine/freenoise/prompt-travel';
import { TorchCpuGenerator } from '../../../src/main/engine/noise/torch-randn';

/** Studio-mode noise (where it differs from diffusers) and prompt-travel input checks. */

const dims = { batch: 1, channels: 2, frames: 10, height: 2, width: 3 };
const frame = (x: Float32Array, c: number, f: number): number[] => Array.from(x.subarray((c * 10 + f) * 6, (c * 10 + f + 1) * 6));

describe('FreeNoise initial noise', () => {
  it('studio repeat_context repeats the first window; diffusers repeat_context is plain random noise (its no-op)', () => {
    const studio = freeNoiseLatents(new TorchCpuGenerator(7), dims, { length: 4, stride: 2, noise: 'repeat_context', mode: 'studio' });
    for (const c of [0, 1]) for (let f = 4; f < 10; f++) expect(frame(studio, c, f)).toEqual(frame(studio, c, f % 4));
    // The drawn window is the generator's first 4-frame randn.
    expect(Array.from(studio.subarray(0, 6))).toEqual(Array.from(new TorchCpuGenerator(7).randn([1, 2, 4, 2, 3]).subarray(0, 6)));
    const diffusers = freeNoiseLatents(new TorchCpuGenerator(7), dims, { length: 4, stride: 2, noise: 'repeat_context', mode: 'diffusers' });
    expect(Array.from(diffusers)).toEqual(Array.from(new TorchCpuGenerator(7).randn([1, 2, 10, 2, 3])));
  });

  it('shuffle_context only permutes frames among the recent window (every later frame is a copy of an earlier one)', () => {
    const x = freeNoiseLatents(new TorchCpuGenerator(3), dims, { length: 4, stride: 2, noise: 'shuffle_context', mode: 'studio' });
    const raw = new TorchCpuGenerator(3).randn([1, 2, 10, 2, 3]);
    for (let f = 0; f < 4; f++) expect(frame(x, 0, f)).toEqual(frame(raw, 0, f));
    for (let f = 4; f < 10; f++) expect([0, 1, 2, 3].some((s) => JSON.stringify(frame(x, 0, f)) === JSON.stringify(frame(raw, 0, s)))).toBe(true);
  });
});

describe('prompt travel', () => {
  it('sorts keyframes and repeats the last prompt at the last frame', () => {
    expect(keyframeSchedule('a', [{ frame: 6, prompt: 'c' }, { frame: 2, prompt: 'b' }], 8)).toEqual({ frames: [0, 2, 6, 7], prompts: ['a', 'b', 'c', 'c'] });
    expect(keyframeSchedule('a', [{ frame: 7, prompt: 'b' }], 8)).toEqual({ frames: [0, 7], prompts: ['a', 'b'] });
  });

  it('refuses keyframes beyond the clip, two on one frame, one on frame 0 and empty text', () => {
    expect(() => keyframeSchedule('a', [{ frame: 8, prompt: 'b' }], 8)).toThrow(/outside the clip \(frames 0 to 7\)/);
    expect(() => keyframeSchedule('a', [{ frame: 3, prompt: 'b' }, { frame: 3, prompt: 'c' }], 8)).toThrow(/Two prompt keyframes at frame 3/);
    expect(() => keyframeSchedule('a', [{ frame: 0, prompt: 'b' }], 8)).toThrow(/Frame 0 takes the main prompt/);
    expect(() => keyframeSchedule('a', [{ frame: 4, prompt: '  ' }], 8)).toThrow(/keyframe at frame 4 is empty/);
  });

  it('keyframes are exact, frames between are float32 lerps', () => {
    const e = [Float32Array.of(0, 1), Float32Array.of(3, -1), Float32Array.of(1, 1)];
    const out = interpolateKeyframes(e, [0, 3, 5], 6);
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 1]);
    expect(Array.from(out.subarray(6, 8))).toEqual([3, -1]);
    expect(Array.from(out.subarray(10, 12))).toEqual([1, 1]);
    expect(out[2]).toBe(Math.fround(Math.fround(Math.fround(2 / 3) * 0) + Math.fround(Math.fround(1 / 3) * 3)));
    expect(Array.from(out.subarray(8, 10))).toEqual([2, 0]);
  });
});
