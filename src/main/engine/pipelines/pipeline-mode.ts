import type { TorchCpuGenerator } from '../noise/torch-randn';
import type { LCMScheduler } from '../schedulers/lcm';
import type { PipelineModels, UNetExtras } from './pipeline-models';

/**
 * The narrow hook image-to-video and video-to-video add to the text-to-video loop (text-to-video.ts): a mode
 * prepares the start of the run after the timesteps are set (drawing from the run's one generator, in the
 * reference's order), may hand every UNet call extra inputs, and may post-process the decoded frames.
 */
export interface PrepareContext {
  models: PipelineModels;
  generator: TorchCpuGenerator;
  /** Timesteps already set for the requested steps. */
  scheduler: LCMScheduler;
  /** [1, C, F, h, w]. */
  latentShape: [number, number, number, number, number];
  signal?: AbortSignal;
}

export interface Prepared {
  /** Initial latents [1, C, F, h, w]; absent ⇒ the pipeline draws them (after whatever the mode drew). */
  latents?: Float32Array;
  /** Index into the scheduler's timesteps of the first step to run (video-to-video strength); default 0. */
  firstStep?: number;
  extras?: UNetExtras;
}

export interface PipelineMode {
  prepare(ctx: PrepareContext): Promise<Prepared>;
  /** Frames [F, H, W, 3] in [0, 1] after decoding → the output frames (same layout). */
  finish?(frames: Float32Array, frameCount: number, height: number, width: number): Float32Array;
}
