import { StudioError } from '../../../shared/errors';
import { adjustColors } from '../image/adjust-colors';
import { resizeAndCrop } from '../image/pil-resize';
import type { RgbImage } from '../image/rgb-image';
import type { PipelineMode, Prepared, PrepareContext } from './pipeline-mode';
import type { PipelineModels } from './pipeline-models';

/**
 * AnimateLCM-I2V (the authors' `AnimationPipeline` as `app-i2v.py` drives it) as a mode of the text-to-video
 * loop: before the initial latents are drawn, the image is resized and centre-cropped to the clip size
 * (`resize_and_crop`, Pillow LANCZOS), encoded by the VAE and SAMPLED from its posterior (the run's first random
 * draw), scaled by 0.18215 (hard-coded by the authors), and run through the image encoder once per clip; every
 * UNet call then gets its features (both CFG halves: the authors duplicate the image latent). After decoding, the
 * frames are colour-matched to the ORIGINAL image (`adjust_colors`) unless switched off.
 */

/** The authors' hard-coded latent scale in encode_img / decode_latents (SD1.5's VAE factor). */
export const ANIMATELCM_I2V_LATENT_SCALE = 0.18215;

/** app-i2v.py's "motion scale" slider: default 0.8, range 0–1.5 ("better identity with smaller scale"). */
export const MOTION_SCALE_DEFAULT = 0.8;
export const MOTION_SCALE_RANGE: readonly [number, number] = [0, 1.5];

export interface ImageToVideoInput {
  /** The decoded input file, at its own size. */
  image: RgbImage;
  motionScale: number;
  /** `adjust_colors` toward the source image (on in the authors' app). */
  colorMatch: boolean;
  width: number;
  height: number;
  /** Replays: the posterior noise [1, C, h, w] instead of the generator's first draw. */
  posteriorNoise?: Float32Array;
}

export interface ImageToVideoTrace {
  cropped?: RgbImage;
  vaeInput?: Float32Array;
  posteriorMean?: Float32Array;
  posteriorStd?: Float32Array;
  imgLatent?: Float32Array;
}

export function imageToVideoMode(input: ImageToVideoInput, trace?: ImageToVideoTrace): PipelineMode {
  const [lo, hi] = MOTION_SCALE_RANGE;
  if (!Number.isFinite(input.motionScale) || input.motionScale < lo || input.motionScale > hi) {
    throw new StudioError('INVALID_PARAMS', `Motion scale must be between ${lo} and ${hi} (got ${input.motionScale}); smaller keeps the image's identity better.`, { motionScale: input.motionScale });
  }
  return {
    async prepare(ctx: PrepareContext): Promise<Prepared> {
      const { models } = ctx;
      if (!models.imageFeatures) {
        throw new StudioError('INVALID_PARAMS', "Image-to-video needs AnimateLCM-I2V's motion module (AnimateLCM_sd15_i2v.ckpt, which holds the image encoder); the selected motion module has none.");
      }
      const [, C, F, h, w] = ctx.latentShape;
      const latent = await encodeImageLatent(models, input, ctx, trace);
      if (trace) trace.imgLatent = latent;
      if (latent.length !== C * h * w) throw new StudioError('INTERNAL', `The image latent has ${latent.length} values; expected ${C * h * w}.`);
      const features = await models.imageFeatures(latent, { frames: F, latentHeight: h, latentWidth: w }, input.motionScale);
      return { extras: { imageFeatures: features } };
    },
    finish: input.colorMatch ? (frames, n, H, W) => adjustColors(frames, n, H, W, input.image) : undefined,
  };
}

/** encode_img: resize_and_crop → ToTensor·2−1 → VAE posterior sample (mean + std·draw) → ×0.18215. */
async function encodeImageLatent(models: PipelineModels, input: ImageToVideoInput, ctx: PrepareContext, trace?: ImageToVideoTrace): Promise<Float32Array> {
  if (!models.encodePixels) throw new StudioError('INTERNAL', 'These models cannot encode images.');
  const f = Math.fround;
  const { width: W, height: H } = input;
  const cropped = resizeAndCrop(input.image, W, H);
  const px = pixelsToVaeInput(cropped);
  const moments = await models.encodePixels(px, H, W);
  const C = ctx.latentShape[1];
  const n = C * (H / models.vaeScaleFactor) * (W / models.vaeScaleFactor);
  const noise = input.posteriorNoise ?? ctx.generator.randn([1, C, H / models.vaeScaleFactor, W / models.vaeScaleFactor]);
  const { mean, std, sample } = posteriorSample(moments, n, noise);
  if (trace) Object.assign(trace, { cropped, vaeInput: px, posteriorMean: mean, posteriorStd: std });
  return sample.map((v) => f(v * ANIMATELCM_I2V_LATENT_SCALE));
}

/** ToTensor (uint8/255, float32) · 2 − 1, HWC RGB → [1, 3, H, W]. */
export function pixelsToVaeInput(img: { width: number; height: number; data: Uint8Array }): Float32Array {
  const f = Math.fround;
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = f(f(f(img.data[p * 3 + c] / 255) * 2) - 1);
  return out;
}

/** diffusers DiagonalGaussianDistribution.sample(): mean + exp(0.5·clamp(logvar, −30, 20))·noise, float32. */
export function posteriorSample(moments: Float32Array, n: number, noise: Float32Array): { mean: Float32Array; std: Float32Array; sample: Float32Array } {
  const f = Math.fround;
  const mean = moments.slice(0, n);
  const std = new Float32Array(n);
  const sample = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const logvar = Math.min(20, Math.max(-30, moments[n + i]));
    std[i] = f(Math.exp(f(0.5 * logvar)));
    sample[i] = f(mean[i] + f(std[i] * noise[i]));
  }
  return { mean, std, sample };
}
