import { CPU_FP32 } from '../../../src/main/verify/types';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { ANIMATELCM_LORA_SCALE } from '../../../src/main/engine/models/model-source';
import { imageToVideoMode } from '../../../src/main/engine/pipelines/image-to-video';
import { textToVideo } from '../../../src/main/engine/pipelines/text-to-video';
import { decodePng } from '../../../src/main/formats/png';
import { i2vCaseSource } from '../../../src/main/verify/kinds/pipeline-animatelcm-i2v';
import { schedulerFrom } from '../../../src/main/verify/kinds/pipeline';
import { npyF32 } from '../../../src/main/verify/run-graph';

/**
 * I2V with what the fixture does not combine: a creator LoRA stacked on the I2V LoRA and switched at run time
 * (switching back reproduces the first frames exactly), and both motion GroupNorm modes.
 */
const CASE = join(__dirname, '../../fixtures/reference/pipeline_animatelcm_i2v');
const work = mkdtempSync(join(tmpdir(), 'i2v-switch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('image-to-video with LoRA switching and both GroupNorm modes', () => {
  it('stack switch changes the frames and switching back restores them; across_frames differs from per_frame', async () => {
    const files = JSON.parse(readFileSync(join(CASE, 'files.json'), 'utf8')) as Record<string, unknown>;
    const ctx = { dir: CASE, name: 'i2v', files, workDir: work, report: () => undefined, target: CPU_FP32 };
    const comps = files.components as Record<string, string>;
    const path = (k: string): string => resolve(CASE, comps[k]);
    const lora = path('lora');
    const png = decodePng(readFileSync(join(CASE, 'input_image.png')));
    const image = { width: png.width, height: png.height, data: png.rgb };
    const cond = npyF32(join(CASE, 'prompt_embeds.npy'));
    const run = async (set: ModelSet): Promise<Float32Array> =>
      (
        await textToVideo(
          set.models(),
          { prompt: '', negativePrompt: '', seed: 1234, steps: 3, guidance: 1, frames: 4, width: 16, height: 16, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
          { inject: { promptEmbeds: { cond: cond.data, tokens: 77 } }, mode: imageToVideoMode({ image, motionScale: 0.8, colorMatch: false, width: 16, height: 16 }) },
        )
      ).frames;
    const perFrame = new ModelSet(i2vCaseSource(ctx, path, lora, 0.8), { cacheRoot: join(work, 'c1'), providers: ['cpu'], groupnorm: 'per_frame', precision: 'float32' });
    let base: Float32Array;
    try {
      base = await run(perFrame);
      // A second LoRA (the same file, kohya scale) on top, switched at run time, then switched off again.
      perFrame.setLoras([
        { path: lora, weight: 0.8, fixedScale: ANIMATELCM_LORA_SCALE },
        { path: lora, weight: -0.6 },
      ]);
      const stacked = await run(perFrame);
      expect(Math.max(...stacked.map((v, i) => Math.abs(v - base[i])))).toBeGreaterThan(1e-3);
      perFrame.setLoras([{ path: lora, weight: 0.8, fixedScale: ANIMATELCM_LORA_SCALE }]);
      expect(Array.from(await run(perFrame))).toEqual(Array.from(base));
    } finally {
      await perFrame.dispose();
    }
    const across = new ModelSet(i2vCaseSource(ctx, path, lora, 0.8), { cacheRoot: join(work, 'c2'), providers: ['cpu'], groupnorm: 'across_frames', precision: 'float32' });
    try {
      const a = await run(across);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(Math.max(...a.map((v, i) => Math.abs(v - base[i])))).toBeGreaterThan(1e-3);
    } finally {
      await across.dispose();
    }
  }, 120_000);
});
