import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlNetUnit, ControlPreview } from '../../../src/shared/domain/controlnet';
import { decodePng, encodePng } from '../../../src/main/formats/png';
import { loadControlFrames } from '../../../src/main/engine/control/control-input';
import { previewFrameIndices } from '../../../src/main/engine/jobs/control-preview-job';
import { resolveMediaFile } from '../../../src/main/services/media-access';
import { createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';

/**
 * Generate's ControlNet preview through the API: the worker makes the unit's control maps with the generation's
 * own code and writes a few as PNGs the media route serves; they are the maps the ControlNet gets, they change
 * with the preprocessor, and a missing input is refused with the unit's number.
 */

let root: string;
let services: StudioServices;
let folder: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'controlnet-preview-'));
  folder = join(root, 'frames');
  mkdirSync(folder);
  // Five frames: a disc moving right over a gradient.
  for (let f = 0; f < 5; f++) {
    const rgb = new Uint8Array(40 * 30 * 3);
    for (let y = 0; y < 30; y++)
      for (let x = 0; x < 40; x++) rgb.set((x - 8 - 6 * f) ** 2 + (y - 15) ** 2 < 49 ? [250, 240, 230] : [x * 4, 20, 60], (y * 40 + x) * 3);
    writeFileSync(join(folder, `f${f + 1}.png`), encodePng(rgb, 40, 30));
  }
  services = createStudioServices({ dataDir: join(root, 'data'), mode: 'web' });
});
afterAll(async () => {
  await services.close();
  rmSync(root, { recursive: true, force: true });
});

async function preview(unit: ControlNetUnit, clip = { frames: 5, width: 64, height: 48 }): Promise<ControlPreview> {
  const r = await invokeApi(services, 'previewControlUnit', [unit, clip]);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as ControlPreview;
}

describe('previewControlUnit', () => {
  it('writes the maps the ControlNet gets, first to last frame, as media the studio serves; they change with the preprocessor', async () => {
    const unit: ControlNetUnit = { model: '/unused.safetensors', control: folder, scale: 1, start: 0, end: 1, preprocess: 'none' };
    const plain = await preview(unit);
    expect(plain.frames.map((f) => f.index)).toEqual([0, 1, 3, 4]);
    const canny = await preview({ ...unit, preprocess: 'canny' });
    expect(canny.frames.map((f) => f.index)).toEqual([0, 1, 3, 4]);
    const want = { none: loadControlFrames(unit, 0, 5, 64, 48).rgb, canny: loadControlFrames({ ...unit, preprocess: 'canny' }, 0, 5, 64, 48).rgb };
    for (const [p, kind] of [[plain, 'none'], [canny, 'canny']] as const) {
      for (const f of p.frames) {
        const media = await resolveMediaFile(services.mediaRoots(), f.path);
        expect(media.contentType).toBe('image/png');
        const png = decodePng(readFileSync(f.path));
        expect([png.width, png.height]).toEqual([64, 48]);
        expect(Buffer.from(png.rgb).equals(Buffer.from(want[kind][f.index]))).toBe(true);
      }
    }
    // Another preprocessor: other files (new URLs) and other pixels; the edge map is black and white.
    expect(canny.frames[0].path).not.toBe(plain.frames[0].path);
    expect(Buffer.from(decodePng(readFileSync(canny.frames[0].path)).rgb).equals(Buffer.from(decodePng(readFileSync(plain.frames[0].path)).rgb))).toBe(false);
    expect(new Set(decodePng(readFileSync(canny.frames[0].path)).rgb)).toEqual(new Set([0, 255]));
    expect(plain.notes.join(' ')).toMatch(/resized to 64×48/);
  });

  it('refuses a missing input or too few frames with the unit number', async () => {
    const unit: ControlNetUnit = { model: '/unused.safetensors', control: join(root, 'missing.png'), scale: 1, start: 0, end: 1, preprocess: 'canny' };
    await expect(preview(unit)).rejects.toThrow(/ControlNet unit 1: .*missing\.png does not exist/);
    await expect(preview({ ...unit, control: folder }, { frames: 8, width: 64, height: 48 })).rejects.toThrow(/ControlNet unit 1.*5 frames but the clip has 8/);
  });

  it('spreads the shown frames over the clip', () => {
    expect(previewFrameIndices(1)).toEqual([0]);
    expect(previewFrameIndices(2)).toEqual([0, 1]);
    expect(previewFrameIndices(16)).toEqual([0, 5, 10, 15]);
  });
});
