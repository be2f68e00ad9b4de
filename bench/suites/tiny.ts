import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { textToVideo } from '../../src/main/engine/pipelines/text-to-video';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS } from '../../src/shared/domain/generation';
import { BenchModels, noiseArray, type UNetShape } from '../model-set';
import { Recorder, runsOr, secs, type Suite } from '../suite';

/**
 * `tiny`: the starter model (the test-size model in the real architecture): compile, session creation, one
 * UNet call and one short generation, each run from an empty compile folder. Seconds; a smoke test of the
 * whole path as much as a speed figure.
 */
export const tinySuite: Suite = async (ctx) => {
  const r = new Recorder('tiny', ctx.log);
  const runs = runsOr(ctx, 3);
  const starter = starterModel();
  const source = { label: 'starter', configs: { unet: starter.configs.unet, motion: starter.configs.motion, vae: starter.configs.vae, text: starter.configs.text_encoder }, unet: starter.unet, motion: starter.motion, vae: starter.vae, text: starter.text_encoder };
  const tokenizer = ClipTokenizer.load();
  const shape: UNetShape = { batch: 2, frames: 8, latentHeight: 32, latentWidth: 32, tokens: 77 };
  const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff, waves', negativePrompt: 'blurry', seed: 7, steps: 2, guidance: 1.5, frames: 8, width: 256, height: 256 };
  const compile: number[] = [];
  const session: number[] = [];
  const call: number[] = [];
  const pipeline: number[] = [];
  const pipelineOrt: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(ctx.scratch, 'tiny-'));
    const models = new BenchModels(source, dir);
    try {
      const c = await models.compileUNet(shape);
      compile.push(secs(c.buildMs + c.writeMs));
      const t0 = performance.now();
      await models.unetSession(shape);
      session.push(secs(performance.now() - t0));
      const n = shape.batch * shape.frames;
      await models.unet(noiseArray(n * 4 * 32 * 32), 999, noiseArray(n * 77 * models.contextDim, 2), shape);
      call.push(secs(models.unetCalls[0].ms));
      await models.prepare(shape);
      models.ortMs = 0;
      const tp = performance.now();
      await textToVideo(models, req, { tokenizer });
      const total = performance.now() - tp;
      pipeline.push(secs(total));
      pipelineOrt.push((100 * (total - models.ortMs)) / total);
    } finally {
      await models.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  r.fig('compile UNet+motion (build + write)', 's', compile, 'starter model, batch 2 × 8 frames × 32×32 latent');
  r.fig('UNet session creation', 's', session);
  r.fig('one UNet+motion call', 's', call, 'first call of a fresh session');
  r.fig('generation 256×256 × 8 frames × 2 steps, CFG 1.5', 's', pipeline, 'sessions already loaded; includes prompt encoding and VAE decode');
  r.fig('generation time outside onnxruntime', '%', pipelineOrt);
  return r.result();
};
