import type { ControlResiduals } from '../control/control-residuals';
import type { ContextWindowSpec } from '../../compiler/families/context-windows';

/**
 * What the text-to-video pipeline needs from its models, as plain async functions over float32 arrays.
 * `model-set.ts` binds these to compiled ONNX sessions; the verify kind binds the same functions to the
 * reference components. Keeping sessions out of the pipeline keeps it readable as numbered steps.
 */
export interface PipelineModels {
  /** Latent channels (4 for SD1.5) and the VAE's pixel/latent ratio (8 for SD1.5). */
  latentChannels: number;
  vaeScaleFactor: number;
  /** The VAE's scaling factor (0.18215 for SD1.5): UNet latents = VAE latents × this. */
  vaeScalingFactor: number;
  /** Text encoder width (768 for CLIP-L). */
  contextDim: number;
  /** Longest clip the motion module can take (its positional table). */
  maxFrames: number;

  /**
   * Token ids [77] → hidden states [77, contextDim] (after the final LayerNorm; CLIP skip handled inside:
   * clipSkip 1 = last layer, 2 = penultimate, …).
   */
  encodeText(ids: readonly number[], clipSkip: number): Promise<Float32Array>;

  /**
   * One UNet + motion call. `sample` is [N, C, h, w] with frames folded into the batch (index b·F + f),
   * `context` is [N, tokens, contextDim] (already repeated per frame). Returns noise_pred [N, C, h, w].
   * With `control` (ControlNet residuals, summed and scaled), the UNet graph with residual inputs runs.
   */
  unet(sample: Float32Array, timestep: number, context: Float32Array, shape: UNetCallShape, extras?: UNetExtras): Promise<Float32Array>;

  /** VAE decode of one frame's UNSCALED latents [1, C, h, w] → image [1, 3, h·s, w·s] in [-1, 1] (not clamped). */
  decode(latents: Float32Array, latentHeight: number, latentWidth: number): Promise<Float32Array>;

  /** Image/video modes: VAE encoder, pixels [1, 3, H, W] in [-1, 1] → moments [1, 2·C, H/s, W/s] (mean | logvar). */
  encodePixels?(pixels: Float32Array, height: number, width: number): Promise<Float32Array>;

  /**
   * AnimateLCM-I2V (only when the motion file carries the image encoder): an image latent [1, C, h, w] → the
   * features the UNet adds per down block, for one video of `frames` frames.
   */
  imageFeatures?(latent: Float32Array, shape: { frames: number; latentHeight: number; latentWidth: number }, motionScale: number): Promise<ImageFeatures>;

  /**
   * The clip is over (`completed` false: cancelled or failed): the models may release what they kept for it —
   * on a GPU the text context kept on the device across steps, after a failure everything kept there.
   */
  endClip?(completed: boolean): void;
}

/** Per level: the UNet input name and its [F, C_i, h_i, w_i] data for one video. */
export type ImageFeatures = Array<{ name: string; data: Float32Array; dims: number[] }>;

/** What a mode adds to every UNet call (absent for text-to-video). */
export interface UNetExtras {
  imageFeatures?: ImageFeatures;
  /** ControlNet residuals, summed and scaled: the UNet graph with residual inputs runs. */
  control?: ControlResiduals;
}

export interface UNetCallShape {
  /** Videos in the batch: 2 with classifier-free guidance (uncond first), else 1. */
  batch: number;
  frames: number;
  latentHeight: number;
  latentWidth: number;
  /** 77 · number of prompt chunks. */
  tokens: number;
  /** FreeNoise context windows in the motion modules (a graph of its own); absent = every frame at once. */
  windows?: ContextWindowSpec;
  /** The CPU memory plan's rows per iteration (a graph of its own, sample-chunks.ts); absent = every sample at once. */
  chunkRows?: number;
}
