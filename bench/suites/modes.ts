import { join } from 'node:path';
import { ModelSet } from '../../src/main/engine/models/model-set';
import { starterSource } from '../../src/main/engine/models/model-source';
import { imageToVideoMode } from '../../src/main/engine/pipelines/image-to-video';
import type { PipelineMode } from '../../src/main/engine/pipelines/pipeline-mode';
import type { PipelineModels } from '../../src/main/engine/pipelines/pipeline-models';
import { textToVideo } from '../../src/main/engine/pipelines/text-to-video';
import { videoToVideoMode } from '../../src/main/engine/pipelines/video-to-video';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS, I2V_SCHEDULER } from '../../src/shared/domain/generation';
import type { BenchModels, UNetShape } from '../model-set';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, requireFreeDisk } from './full-size-common';

/**
 * `modes`: the step cost of image-to-video and video-to-video against text-to-video at the same shape, guidance 1,
 * 4 steps (V2V at strength 1 so it runs the same 4 steps), plus the once-per-clip work (VAE encode + image
 * encoder / per-frame VAE encode). Target: a step within 5 % of text-to-video.
 *   default: the starter model (studio ModelSet), 256×256 × 8 frames; run 0 warms every session, not counted. Its
 *            UNet has one layer per block, so the I2V graph receives no features there.
 *   --full:  full SD1.5 size (random weights, BenchModels), 256×256 × 16 frames = a 1 × 16 × 32² latent, fp32 CPU;
 *            the I2V UNet graph has the 4 image-feature inputs and the image encoder is the real 76.8 M-parameter
 *            Adapter. Each mode's UNet session is closed before the next (one 5 GB session at a time), so every
 *            generation's first step includes a session load: the figure is the mean of steps 2–4.
 */
export const modesSuite: Suite = async (ctx) => {
  const r = new Recorder('modes', ctx.log);
  const full = ctx.full;
  const runs = runsOr(ctx, full ? 1 : 3);
  const W = 256;
  const H = 256;
  const F = full ? 16 : 8;
  const shape: UNetShape = { batch: 1, frames: F, latentHeight: H / 8, latentWidth: W / 8, tokens: 77 };
  let models: PipelineModels;
  let close: () => Promise<void>;
  let bench: BenchModels | undefined;
  if (full) {
    requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
    bench = ctx.fullSize();
    const tp = performance.now();
    await bench.prepare(shape);
    r.fig('compile (if needed) + load CLIP, UNet and VAE sessions', 's', secs(performance.now() - tp), 'not part of the step times below');
    models = bench;
    close = () => bench!.closeUNet(shape);
  } else {
    const set = new ModelSet(starterSource(), { cacheRoot: join(ctx.scratch, 'modes-cache'), providers: ['cpu'], precision: 'float32' });
    models = set.models();
    close = () => set.dispose();
  }
  const tokenizer = ClipTokenizer.load();
  const image = { width: 300, height: 200, data: Uint8Array.from({ length: 300 * 200 * 3 }, (_, i) => (i * 7) % 256) };
  const frames = Array.from({ length: F }, (_, f) => Uint8Array.from({ length: W * H * 3 }, (_, i) => (i + 13 * f) % 256));
  const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff, waves', seed: 7, steps: 4, guidance: 1, frames: F, width: W, height: H, scheduler: I2V_SCHEDULER };
  const modes: Record<string, () => PipelineMode | undefined> = {
    t2v: () => undefined,
    i2v: () => imageToVideoMode({ image, motionScale: 0.8, colorMatch: true, width: W, height: H }),
    v2v: () => videoToVideoMode({ frames, width: W, height: H, strength: 1 }),
  };
  const step: Record<string, number[]> = { t2v: [], i2v: [], v2v: [] };
  const prep: Record<string, number[]> = { t2v: [], i2v: [], v2v: [] };
  // Full size: step 1 of each generation loads that mode's UNet session; the starter run warms up in run 0 instead.
  const counted = full ? 1 : 0;
  try {
    for (let i = full ? 1 : 0; i <= runs; i++) {
      for (const name of Object.keys(modes)) {
        const times: number[] = [];
        let firstStepAt = 0;
        await textToVideo(models, req, {
          tokenizer,
          mode: modes[name](),
          onStage: (e) => {
            if (e.stage === 'encode' && e.done === 1) firstStepAt = performance.now();
          },
          onStep: (e) => {
            if (times.length === 0) prep[name].push(secs(performance.now() - firstStepAt - e.elapsedMs));
            times.push(e.elapsedMs);
          },
        });
        const kept = times.slice(counted);
        if (i > 0) step[name].push(secs(kept.reduce((a, b) => a + b, 0) / kept.length));
        else prep[name].length = 0;
        ctx.log(`  ${name}: steps ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s`);
        // One UNet session at a time at full size (the I2V graph is another 5 GB session).
        if (bench) await bench.closeUNet(name === 'i2v' ? { ...shape, imageFeatures: true } : shape);
      }
    }
  } finally {
    await close();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const what = full ? `full SD1.5 size, ${describe(shape)}, guidance 1, fp32 CPU` : 'starter model, 256×256 × 8 frames, guidance 1';
  for (const name of Object.keys(modes)) r.fig(`${name} step (mean of steps ${counted + 1}–4)`, 's', step[name], what);
  r.fig('i2v once per clip: resize + VAE encode + image encoder', 's', prep.i2v);
  r.fig(`v2v once per clip: ${F} per-frame VAE encodes + add_noise`, 's', prep.v2v);
  r.target('i2v step vs t2v', 'within 5 %', 1.05, '<=', '×', median(step.i2v) / median(step.t2v));
  r.target('v2v step vs t2v', 'within 5 %', 1.05, '<=', '×', median(step.v2v) / median(step.t2v));
  if (full) r.note('full variant (--full): one UNet session at a time; a shared machine makes single runs noisy (--runs N for more)');
  return r.result();
};
