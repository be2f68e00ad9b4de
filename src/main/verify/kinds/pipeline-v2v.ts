import { join } from 'node:path';
import { ModelSet } from '../../engine/models/model-set';
import { textToVideo, type Trace } from '../../engine/pipelines/text-to-video';
import { videoToVideoMode, type VideoToVideoTrace } from '../../engine/pipelines/video-to-video';
import { readNpy } from '../../compiler/io/npy';
import { compareArrays } from '../compare';
import { npyF32 } from '../run-graph';
import type { KindHandler } from '../types';
import { caseGroupnorm, caseSource, LATENT_REL_L2, reportTextEncoder, reportTimestepsAndSteps, runNumbers, schedulerFrom } from './pipeline';

/**
 * kind `pipeline_animatediff_lcm_v2v`: diffusers' AnimateDiffVideoToVideoPipeline + LCMScheduler replayed through
 * OUR video-to-video mode on OUR compiled sessions (ModelSet, fp32 CPU). The recorded draws (posterior sample,
 * add_noise noise, step noise) and the prompt embeddings are injected; the VAE input, the scaled init latents,
 * the noised latents, the truncated schedule, every step, the decode and the frames are compared.
 */

export const pipelineV2vHandler: KindHandler = {
  kind: 'pipeline_animatediff_lcm_v2v',
  async run(ctx) {
    const groupnorm = caseGroupnorm(ctx);
    const num = runNumbers(ctx);
    const arr = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;
    const set = new ModelSet(caseSource(ctx), { cacheRoot: join(ctx.workDir, 'v2v-cache'), providers: [ctx.target.provider], groupnorm, precision: ctx.target.precision, quant: ctx.target.quant });
    try {
      const models = set.models();
      await reportTextEncoder(ctx, models);
      const steps = num('steps_requested');
      const guidance = num('guidance');
      const frames = num('frames');
      const width = num('width_px');
      const height = num('height_px');
      const video = readNpy(join(ctx.dir, 'input_video_uint8.npy'));
      const per = width * height * 3;
      const u8 = video.data as Uint8Array;
      const input = Array.from({ length: frames }, (_, i) => u8.slice(i * per, (i + 1) * per));
      const cond = npyF32(join(ctx.dir, 'prompt_embeds.npy'));
      const noise = npyF32(join(ctx.dir, 'step_noise.npy'));
      const nPer = noise.data.length / Math.max(1, noise.shape[0]);
      const vTrace: VideoToVideoTrace = {};
      const mode = videoToVideoMode({ frames: input, width, height, strength: num('strength'), inject: { posteriorNoise: arr('vae_sample_noise.npy'), addNoise: arr('add_noise_noise.npy') } }, vTrace);
      const result = await textToVideo(
        models,
        { prompt: '', negativePrompt: '', seed: num('generator_seed'), steps, guidance, frames, width, height, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
        {
          inject: {
            promptEmbeds: { cond: cond.data, uncond: guidance > 1 ? arr('negative_prompt_embeds.npy') : undefined, tokens: cond.shape[1] },
            // The scheduler's noise at the run steps only (schedule index t_start onwards).
            stepNoise: [...Array<Float32Array>(steps - noise.shape[0] - 1).fill(new Float32Array(0)), ...Array.from({ length: noise.shape[0] }, (_, i) => noise.data.slice(i * nPer, (i + 1) * nPer))],
          },
          trace: true,
          sampleChunks: ctx.target.sampleChunks,
          mode,
        },
      );
      // input_video.npy is (F, 3, H, W): one VAE input per frame, in order.
      const vaeIn = arr('input_video.npy');
      const px = vTrace.vaeInput ?? [];
      ctx.report(compareArrays(ctx.name, 'vae input (2·u8/255 − 1)', concat(px), vaeIn, { atol: 0, rtol: 0 }));
      ctx.report(compareArrays(ctx.name, 'init_latents', vTrace.initLatents ?? [], arr('init_latents.npy')));
      ctx.report(compareArrays(ctx.name, 'noisy_latents', vTrace.noisyLatents ?? [], arr('noisy_latents.npy')));
      const trace = reportTimestepsAndSteps(ctx, result.timesteps, result.trace as Trace);
      const latentWise = { maxRelL2: LATENT_REL_L2 };
      ctx.report(compareArrays(ctx.name, 'vae_decoder_input', trace.latents[trace.latents.length - 1], arr('vae_decoder_input.npy'), latentWise));
      ctx.report(compareArrays(ctx.name, 'video_decoded_raw', trace.decodedRaw ?? [], arr('video_decoded_raw.npy')));
      ctx.report(compareArrays(ctx.name, 'frames', result.frames, arr('frames.npy')));
    } finally {
      await set.dispose();
    }
  },
};

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
