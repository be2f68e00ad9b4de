import { StudioError } from '../../../shared/errors';
import { posteriorSample, pixelsToVaeInput } from './image-to-video';
import type { PipelineMode, Prepared, PrepareContext } from './pipeline-mode';

/**
 * Video-to-video with diffusers' AnimateDiffVideoToVideoPipeline semantics, as a mode of the text-to-video loop:
 *   1. the input frames (already resampled to the clip's frame count and scaled/cropped to its size) → 2·(u8/255)−1;
 *   2. VAE encode, posterior SAMPLED (not its mean): one draw of (n, C, h, w) per chunk of 16 frames;
 *   3. × scaling_factor, in frame-major (F, C, h, w) layout;
 *   4. the full LCM schedule for `steps`, truncated as diffusers' get_timesteps does: init = ⌊steps·strength⌋,
 *      the run starts at index steps − init (strength is NOT passed to the LCM schedule);
 *   5. noise drawn in the frame-major layout, add_noise at the first run timestep
 *      (√ᾱ·x + √(1−ᾱ)·noise), then permuted to (1, C, F, h, w); the loop, decode and frames are text-to-video's.
 */

/** diffusers' decode_chunk_size: frames per VAE-encode call, and per posterior draw. */
export const V2V_ENCODE_CHUNK = 16;

export interface VideoToVideoInput {
  /** F frames of exactly the clip's size, RGB 8-bit, [H, W, 3] each. */
  frames: Uint8Array[];
  width: number;
  height: number;
  strength: number;
  /** Replays: the recorded draws instead of the generator's. */
  inject?: { posteriorNoise?: Float32Array; addNoise?: Float32Array };
}

export interface VideoToVideoTrace {
  vaeInput?: Float32Array[];
  initLatents?: Float32Array;
  noisyLatents?: Float32Array;
}

/** The first schedule index a strength starts at, or an error a creator can act on. */
export function v2vFirstStep(steps: number, strength: number): number {
  if (!Number.isFinite(strength) || strength <= 0 || strength > 1) {
    throw new StudioError('INVALID_PARAMS', `Strength must be greater than 0 and at most 1 (got ${strength}); 1 repaints everything, small values keep the input.`, { strength });
  }
  const init = Math.min(Math.floor(steps * strength), steps);
  if (init < 1) {
    throw new StudioError('INVALID_PARAMS', `Strength ${strength} with ${steps} steps runs no step (⌊${steps}·${strength}⌋ = 0); raise the strength or the steps.`, { strength, steps });
  }
  return Math.max(steps - init, 0);
}

export function videoToVideoMode(input: VideoToVideoInput, trace?: VideoToVideoTrace): PipelineMode {
  return {
    async prepare(ctx: PrepareContext): Promise<Prepared> {
      const { models, generator, scheduler } = ctx;
      if (!models.encodePixels) throw new StudioError('INTERNAL', 'These models cannot encode video frames.');
      const [, C, F, h, w] = ctx.latentShape;
      if (input.frames.length !== F) throw new StudioError('INVALID_PARAMS', `The input video has ${input.frames.length} frames after resampling; the clip needs ${F}.`);
      const firstStep = v2vFirstStep(scheduler.timesteps.length, input.strength);
      const f = Math.fround;
      const per = C * h * w;
      const sf = models.vaeScalingFactor;
      // (F, C, h, w): frame-major, as diffusers keeps it until after add_noise.
      const init = new Float32Array(F * per);
      if (trace) trace.vaeInput = [];
      for (let c0 = 0; c0 < F; c0 += V2V_ENCODE_CHUNK) {
        const n = Math.min(V2V_ENCODE_CHUNK, F - c0);
        const moments: Float32Array[] = [];
        for (let k = 0; k < n; k++) {
          const px = pixelsToVaeInput({ width: input.width, height: input.height, data: input.frames[c0 + k] });
          trace?.vaeInput?.push(px);
          moments.push(await models.encodePixels(px, input.height, input.width));
        }
        const noise = c0 === 0 && input.inject?.posteriorNoise ? input.inject.posteriorNoise : generator.randn([n, C, h, w]);
        for (let k = 0; k < n; k++) {
          const { sample } = posteriorSample(moments[k], per, noise.subarray(k * per, (k + 1) * per));
          for (let i = 0; i < per; i++) init[(c0 + k) * per + i] = f(sample[i] * sf);
        }
      }
      const noise = input.inject?.addNoise ?? generator.randn([1, F, C, h, w]);
      const a = scheduler.stepScalars(firstStep).alphaProdT;
      const sa = f(Math.sqrt(a));
      const sb = f(Math.sqrt(f(1 - a)));
      const noisy = new Float32Array(F * per);
      for (let i = 0; i < noisy.length; i++) noisy[i] = f(f(sa * init[i]) + f(sb * noise[i]));
      // (1, F, C, h, w) → (1, C, F, h, w)
      const latents = new Float32Array(noisy.length);
      const hw = h * w;
      for (let fi = 0; fi < F; fi++) for (let c = 0; c < C; c++) latents.set(noisy.subarray((fi * C + c) * hw, (fi * C + c + 1) * hw), (c * F + fi) * hw);
      if (trace) Object.assign(trace, { initLatents: init, noisyLatents: noisy });
      return { latents, firstStep };
    },
  };
}
