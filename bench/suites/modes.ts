import { join } from 'node:path';
import { ModelSet } from '../../src/main/engine/models/model-set';
import { starterSource } from '../../src/main/engine/models/model-source';
import { imageToVideoMode } from '../../src/main/engine/pipelines/image-to-video';
import type { PipelineMode } from '../../src/main/engine/pipelines/pipeline-mode';
import { textToVideo } from '../../src/main/engine/pipelines/text-to-video';
import { videoToVideoMode } from '../../src/main/engine/pipelines/video-to-video';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS, I2V_SCHEDULER } from '../../src/shared/domain/generation';
import { Recorder, runsOr, secs, type Suite } from '../suite';

/**
 * `modes`: the step cost of image-to-video and video-to-video against text-to-video at the same shape (starter
 * model, 256×256 × 8 frames, guidance 1, 4 steps; V2V at strength 1 so it runs the same 4 steps), on the same
 * loaded ModelSet, plus the once-per-clip work (VAE encode + image encoder / per-frame VAE encode). Target: a
 * step within 5 % of text-to-video. The starter UNet has one layer per block, so the I2V graph receives no
 * features there (AnimateLCM adds them after a block's second layer); at SD1.5 size they are 4 Adds per call.
 */
export const modesSuite: Suite = async (ctx) => {
  const r = new Recorder('modes', ctx.log);
  const runs = runsOr(ctx, 3);
  const W = 256;
  const H = 256;
  const F = 8;
  const set = new ModelSet(starterSource(), { cacheRoot: join(ctx.scratch, 'modes-cache'), providers: ['cpu'], precision: 'float32' });
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
  try {
    for (let i = 0; i <= runs; i++) {
      for (const name of Object.keys(modes)) {
        const times: number[] = [];
        let firstStepAt = 0;
        await textToVideo(set.models(), req, {
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
        // Run 0 compiles and warms every session; it is not counted.
        if (i > 0) step[name].push(secs(times.reduce((a, b) => a + b, 0) / times.length));
        else prep[name].length = 0;
      }
    }
  } finally {
    await set.dispose();
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const name of Object.keys(modes)) r.fig(`${name} step (mean of 4)`, 's', step[name], 'starter model, 256×256 × 8 frames, guidance 1');
  r.fig('i2v once per clip: resize + VAE encode + image encoder', 's', prep.i2v);
  r.fig('v2v once per clip: 8 per-frame VAE encodes + add_noise', 's', prep.v2v);
  r.target('i2v step vs t2v', 'within 5 %', 1.05, '<=', '×', median(step.i2v) / median(step.t2v));
  r.target('v2v step vs t2v', 'within 5 %', 1.05, '<=', '×', median(step.v2v) / median(step.t2v));
  return r.result();
};
