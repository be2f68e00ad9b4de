import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/main/compiler/io/npy';
import { canny, gaussianBlur5 } from '../../../src/shared/control/canny';

/**
 * The built-in canny against OpenCV 4.6 (`cv2.Canny`, `cv2.GaussianBlur`), pixel for pixel, on reference maps
 * made by scripts/fixtures/make-canny-reference.py: an RGB scene (multi-channel gradients), its gray version,
 * four threshold pairs (one swapped), with and without the blur, and a flat image (no edges).
 */

const DIR = join(__dirname, '../../fixtures/canny');
interface Case { input: string; low: number; high: number; blur: boolean; edges: string; edge_pixels: number }
const cases = (JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const image = (f: string) => {
  const a = readNpy(join(DIR, f));
  return { data: a.data as Uint8Array, height: a.shape[0], width: a.shape[1], channels: a.shape[2] ?? 1 };
};

describe('canny equals cv2.Canny', () => {
  it.each(cases.map((c) => [c.edges, c] as const))('%s', (_name, c) => {
    const img = image(c.input);
    const got = canny(img.data, img.width, img.height, img.channels, { low: c.low, high: c.high, blur: c.blur });
    const want = image(c.edges).data;
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
    expect(diff).toBe(0);
    expect(got.filter((v) => v === 255).length).toBe(c.edge_pixels);
  });

  it('the blur equals cv2.GaussianBlur((5, 5), 0) on the RGB scene', () => {
    const img = image('scene_rgb.npy');
    const want = image('scene_rgb_blur5.npy').data;
    expect(Array.from(gaussianBlur5(img.data, img.width, img.height, 3))).toEqual(Array.from(want));
  });

  it('refuses a buffer that does not match its size', () => {
    expect(() => canny(new Uint8Array(10), 4, 4, 1, { low: 1, high: 2 })).toThrow(/16|4×4/);
  });
});
