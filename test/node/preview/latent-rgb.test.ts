import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { parseNpy } from '../../../src/main/compiler/io/npy';
import { latentsToPreviewRGB } from '../../../src/main/engine/preview/latent-rgb';

describe('latentsToPreviewRGB', () => {
  it('maps each latent channel through the SD1.5 4×3 factors', () => {
    // 1 frame, 4 channels, 1×4 pixels: pixel c has latent channel c = 1, others 0.
    const z = new Float32Array(16);
    for (let c = 0; c < 4; c++) z[c * 4 + c] = 1;
    const { width, height, frames } = latentsToPreviewRGB(z, [1, 4, 1, 4]);
    expect([width, height, frames.length]).toEqual([4, 1, 1]);
    const px = (p: number): number[] => Array.from(frames[0].subarray(p * 4, p * 4 + 4));
    const byte = (v: number): number => Math.round(((v + 1) / 2) * 255);
    expect(px(0)).toEqual([byte(0.3512), byte(0.2297), byte(0.3227), 255]);
    expect(px(3)).toEqual([byte(-0.212), byte(-0.2616), byte(-0.7177), 255]);
  });

  it('reads diffusers [B,4,F,H,W] the same as frame-major [F,4,H,W]', () => {
    const F = 3, H = 2, W = 5;
    const video = Float32Array.from({ length: 4 * F * H * W }, (_, i) => Math.sin(i * 0.37) * 2);
    const frameMajor = new Float32Array(video.length);
    for (let c = 0; c < 4; c++) for (let f = 0; f < F; f++) for (let p = 0; p < H * W; p++) {
      frameMajor[(f * 4 + c) * H * W + p] = video[(c * F + f) * H * W + p];
    }
    const a = latentsToPreviewRGB(video, [1, 4, F, H, W], { factors: 'a1111' });
    const b = latentsToPreviewRGB(frameMajor, [F, 4, H, W], { factors: 'a1111' });
    expect(a.frames.map((x) => Array.from(x))).toEqual(b.frames.map((x) => Array.from(x)));
  });

  it('previews real denoised latents from the scheduler fixture with visible contrast', () => {
    const path = fileURLToPath(new URL('../../fixtures/reference/scheduler_lcm/linear/steps_4/denoised.npy', import.meta.url));
    const arr = parseNpy(new Uint8Array(readFileSync(path)));
    const [steps, ...shape] = arr.shape;
    const one = (arr.data as Float32Array).subarray(0, (arr.data.length / steps));
    const { frames } = latentsToPreviewRGB(one, shape);
    expect(frames).toHaveLength(shape[2]);
    const values = new Set(Array.from(frames[0]).filter((_, i) => i % 4 !== 3));
    expect(values.size).toBeGreaterThan(2);
  });

  it('rejects shapes that are not SD latents', () => {
    expect(() => latentsToPreviewRGB(new Float32Array(12), [1, 3, 2, 2])).toThrow(/4 latent channels/);
    expect(() => latentsToPreviewRGB(new Float32Array(10), [1, 4, 2, 2])).toThrow(/hold 10 values/);
  });
});
