import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/main/compiler/io/npy';
import { resizeLanczos } from '../../../src/shared/control/resize-lanczos';

/**
 * The control-image resize against Pillow 9.4 (`Image.resize(size, Image.LANCZOS)`, what diffusers' control-image
 * processor calls), byte for byte, on references made by scripts/fixtures/make-lanczos-reference.py: an RGB scene
 * with hard edges (ringing clamps at 0 and 255) and its gray version, enlarged, shrunk, one axis up and the other
 * down, one axis only, the same size, and far (×2.6) up.
 */

const DIR = join(__dirname, '../../fixtures/lanczos');
interface Case { input: string; width: number; height: number; output: string }
const cases = (JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
const image = (f: string) => {
  const a = readNpy(join(DIR, f));
  return { data: a.data as Uint8Array, height: a.shape[0], width: a.shape[1], channels: a.shape[2] ?? 1 };
};

describe('resizeLanczos equals Pillow', () => {
  it('the fixtures hold every kind of resize', () => {
    expect(cases.length).toBe(16);
  });
  it.each(cases.map((c) => [c.output, c] as const))('%s', (_name, c) => {
    const src = image(c.input);
    const want = image(c.output);
    expect([want.width, want.height]).toEqual([c.width, c.height]);
    const got = resizeLanczos(src.data, src.width, src.height, src.channels, c.width, c.height);
    let diff = 0;
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) {
      if (got[i] !== want.data[i]) diff++;
      worst = Math.max(worst, Math.abs(got[i] - want.data[i]));
    }
    expect({ diff, worst }).toEqual({ diff: 0, worst: 0 });
  });
});
