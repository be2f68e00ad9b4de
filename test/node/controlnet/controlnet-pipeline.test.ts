import { CPU_FP32 } from '../../../src/main/verify/types';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/main/compiler/io/npy';
import { controlImageFromRgb8 } from '../../../src/main/engine/control/control-frames';
import { controlKeep, effectiveScales } from '../../../src/main/engine/control/control-window';
import { ControlNetModel } from '../../../src/main/engine/control/controlnet-model';
import type { ControlUnitRun } from '../../../src/main/engine/control/pipeline-control';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { textToVideo } from '../../../src/main/engine/pipelines/text-to-video';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';
import { caseSource, schedulerFrom } from '../../../src/main/verify/kinds/pipeline';
import { npyF32 } from '../../../src/main/verify/run-graph';
import type { VerifyContext } from '../../../src/main/verify/types';

/**
 * AnimateDiff + ControlNet + LCM: the reference case through `verify`, then configurations the case does not
 * contain, each against an independent expectation: several units at once (two units at scale s/2 each are, in
 * float32, exactly one unit at s, since halving commutes with rounding), different windows per unit, scale 0 (the
 * plain pipeline's frames, bit for bit), and the window rule's edge cases from diffusers.
 */

const CASE = join(__dirname, '../../fixtures/reference/pipeline_animatediff_lcm_controlnet');
const CN = join(__dirname, '../../fixtures/reference/controlnet');
const root = mkdtempSync(join(tmpdir(), 'controlnet-pipeline-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the control window (diffusers: keep = 1 − (i/n < start or (i+1)/n > end))', () => {
  it('n=3, end 0.75: the last step is off; n=5, start 0.2: step 0 off, step 1 on', () => {
    expect(effectiveScales(3, 0.8, { start: 0, end: 0.75 })).toEqual([0.8, 0.8, 0]);
    expect([0, 1, 2, 3, 4].map((i) => controlKeep(i, 5, { start: 0.2, end: 1 }))).toEqual([0, 1, 1, 1, 1]);
    expect([0, 1, 2, 3].map((i) => controlKeep(i, 4, { start: 0.25, end: 0.5 }))).toEqual([0, 1, 0, 0]);
  });
});

describe('pipeline_animatediff_lcm_controlnet', () => {
  it('verify passes the reference case (diffusers and ldm ControlNet files)', async () => {
    const r = await runVerify(CASE);
    expect(r.failures).toEqual([]);
    expect(verifyPassed(r)).toBe(true);
    const whats = r.comparisons.map((c) => c.what);
    expect(whats).toContain('frames');
    expect(whats).toContain('ldm frames');
    expect(whats).toContain('step2 unit0 off (reference residual is zero)');
  }, 120_000);

  describe('configurations the case does not contain', () => {
    const files = JSON.parse(readFileSync(join(CASE, 'files.json'), 'utf8')) as Record<string, unknown>;
    const ctx: VerifyContext = { dir: CASE, name: 'cn', files, workDir: root, report: () => undefined, target: CPU_FP32 };
    let set: ModelSet;
    let net: ControlNetModel;
    let netLdm: ControlNetModel;
    const rgb = readNpy(join(CASE, 'control_frames_uint8_0.npy'));
    const [F, H, W] = rgb.shape;
    const frames = controlImageFromRgb8(rgb.data as Uint8Array, F, H, W);
    // Another control image per frame: the frames in reverse order.
    const reversed = new Float32Array(frames.length);
    const per = frames.length / F;
    for (let f = 0; f < F; f++) reversed.set(frames.subarray((F - 1 - f) * per, (F - f) * per), f * per);

    beforeAll(() => {
      set = new ModelSet(caseSource(ctx), { cacheRoot: join(root, 'cache'), providers: ['cpu'], groupnorm: 'per_frame', precision: 'float32' });
      net = new ControlNetModel(join(CN, 'controlnet.safetensors'), { cacheRoot: join(root, 'cn-cache') });
      netLdm = new ControlNetModel(join(CN, 'controlnet_ldm.safetensors'), { cacheRoot: join(root, 'cn-cache') });
    });
    afterAll(async () => {
      await net.dispose();
      await netLdm.dispose();
      await set.dispose();
    });

    const generate = async (units: ControlUnitRun[], steps = 3) =>
      (
        await textToVideo(
          set.models(),
          { prompt: '', negativePrompt: '', seed: 1051, steps, guidance: 1.5, frames: F, width: W, height: H, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
          {
            inject: { promptEmbeds: { cond: npyF32(join(CASE, 'prompt_embeds.npy')).data, uncond: npyF32(join(CASE, 'negative_prompt_embeds.npy')).data, tokens: 77 } },
            control: { units },
          },
        )
      ).frames;

    it('two units at 0.4 each equal one unit at 0.8, bit for bit; a second, different unit changes the clip', async () => {
      const one = await generate([{ net, frames, scale: 0.8, start: 0, end: 0.75 }]);
      const two = await generate([
        { net, frames, scale: 0.4, start: 0, end: 0.75 },
        { net: netLdm, frames, scale: 0.4, start: 0, end: 0.75 },
      ]);
      expect(Array.from(two)).toEqual(Array.from(one));
      const other = await generate([
        { net, frames, scale: 0.8, start: 0, end: 0.75 },
        { net: netLdm, frames: reversed, scale: 0.5, start: 0.3, end: 1 },
      ]);
      expect(Math.max(...other.map((v, i) => Math.abs(v - one[i])))).toBeGreaterThan(1e-3);
    }, 120_000);

    it('a unit whose window covers no step, or at scale 0, gives the plain pipeline frames exactly; order of units does not matter beyond float rounding', async () => {
      const plain = await generate([]);
      const zero = await generate([{ net, frames, scale: 0, start: 0, end: 1 }]);
      expect(Array.from(zero)).toEqual(Array.from(plain));
      const outside = await generate([{ net, frames, scale: 1, start: 0.9, end: 1 }], 3);
      expect(Array.from(outside)).toEqual(Array.from(plain));
      const ab = await generate([
        { net, frames, scale: 0.6, start: 0, end: 1 },
        { net, frames: reversed, scale: 0.3, start: 0, end: 1 },
      ]);
      const ba = await generate([
        { net, frames: reversed, scale: 0.3, start: 0, end: 1 },
        { net, frames, scale: 0.6, start: 0, end: 1 },
      ]);
      expect(Math.max(...ab.map((v, i) => Math.abs(v - ba[i])))).toBeLessThan(1e-5);
    }, 120_000);

    it('composes with across-frames GroupNorm: the control steers that model too', async () => {
      const across = new ModelSet(caseSource(ctx), { cacheRoot: join(root, 'cache'), providers: ['cpu'], groupnorm: 'across_frames', precision: 'float32' });
      try {
        const run = async (units: ControlUnitRun[]) =>
          (
            await textToVideo(
              across.models(),
              { prompt: '', negativePrompt: '', seed: 1051, steps: 3, guidance: 1.5, frames: F, width: W, height: H, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
              { inject: { promptEmbeds: { cond: npyF32(join(CASE, 'prompt_embeds.npy')).data, uncond: npyF32(join(CASE, 'negative_prompt_embeds.npy')).data, tokens: 77 } }, control: { units } },
            )
          ).frames;
        const plain = await run([]);
        const controlled = await run([{ net, frames, scale: 0.8, start: 0, end: 0.75 }]);
        const perFrame = await generate([{ net, frames, scale: 0.8, start: 0, end: 0.75 }]);
        expect(Math.max(...controlled.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(1e-2);
        expect(Math.max(...controlled.map((v, i) => Math.abs(v - perFrame[i])))).toBeGreaterThan(1e-3);
      } finally {
        await across.dispose();
      }
    }, 120_000);

    it('refuses conditioning frames of the wrong size or count and bad windows before running', async () => {
      await expect(generate([{ net, frames: frames.subarray(0, per * 2), scale: 1, start: 0, end: 1 }])).rejects.toThrow(/clip needs 4 frames/);
      await expect(generate([{ net, frames, scale: 1, start: 0.5, end: 0.5 }])).rejects.toThrow(/0 ≤ start < end ≤ 1/);
    });
  });
});
