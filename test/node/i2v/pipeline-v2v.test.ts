import { CPU_FP32 } from '../../../src/main/verify/types';
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/main/compiler/io/npy';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { textToVideo } from '../../../src/main/engine/pipelines/text-to-video';
import { v2vFirstStep, videoToVideoMode } from '../../../src/main/engine/pipelines/video-to-video';
import { compareArrays, formatComparison } from '../../../src/main/verify/compare';
import { caseSource, schedulerFrom } from '../../../src/main/verify/kinds/pipeline';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';
import { npyF32 } from '../../../src/main/verify/run-graph';

const CASE = join(__dirname, '../../fixtures/reference/pipeline_animatediff_lcm_v2v');
const work = mkdtempSync(join(tmpdir(), 'v2v-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('video-to-video (AnimateDiffVideoToVideoPipeline semantics)', () => {
  it('verify passes the reference case: VAE input, sampled posterior, add_noise, truncated schedule (499, 259), steps, frames', async () => {
    const r = await runVerify(CASE, { log: () => undefined });
    expect(r.failures).toEqual([]);
    expect(verifyPassed(r)).toBe(true);
    expect(r.comparisons.map((c) => c.what)).toEqual(expect.arrayContaining(['init_latents', 'noisy_latents', 'timesteps', 'step1 latents', 'frames']));
  }, 60_000);

  it('strength truncation is diffusers get_timesteps: ⌊steps·strength⌋ steps from the end of the full schedule; nothing to run is refused', () => {
    expect(v2vFirstStep(4, 0.6)).toBe(2);
    expect(v2vFirstStep(4, 1)).toBe(0);
    expect(v2vFirstStep(6, 0.5)).toBe(3);
    expect(() => v2vFirstStep(4, 0.2)).toThrow(/runs no step/);
    expect(() => v2vFirstStep(4, 0)).toThrow(/Strength must be greater than 0/);
    expect(() => v2vFirstStep(4, 1.5)).toThrow(/at most 1/);
  });

  it('from the seed alone (no recorded noise) the draws come in diffusers order: posterior, add_noise, step noise → the reference frames', async () => {
    const files = JSON.parse(readFileSync(join(CASE, 'files.json'), 'utf8')) as Record<string, unknown>;
    const ctx = { dir: CASE, name: 'v2v', files, workDir: work, report: () => undefined, target: CPU_FP32 };
    const set = new ModelSet(caseSource(ctx), { cacheRoot: join(work, 'cache'), providers: ['cpu'], groupnorm: 'per_frame', precision: 'float32' });
    try {
      const u8 = readNpy(join(CASE, 'input_video_uint8.npy')).data as Uint8Array;
      const per = 16 * 16 * 3;
      const frames = Array.from({ length: 4 }, (_, i) => u8.slice(i * per, (i + 1) * per));
      const cond = npyF32(join(CASE, 'prompt_embeds.npy'));
      const result = await textToVideo(
        set.models(),
        { prompt: '', negativePrompt: '', seed: 1071, steps: 4, guidance: 1.5, frames: 4, width: 16, height: 16, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
        { inject: { promptEmbeds: { cond: cond.data, uncond: npyF32(join(CASE, 'negative_prompt_embeds.npy')).data, tokens: 77 } }, mode: videoToVideoMode({ frames, width: 16, height: 16, strength: 0.6 }) },
      );
      expect(result.timesteps).toEqual([499, 259]);
      const cmp = compareArrays('v2v', 'frames from seed', result.frames, npyF32(join(CASE, 'frames.npy')).data);
      expect(cmp.pass, formatComparison(cmp)).toBe(true);
    } finally {
      await set.dispose();
    }
  }, 60_000);
});
