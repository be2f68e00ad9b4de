/**
 * What the denoising loop needs from a sampler, in diffusers' terms. The pipeline owns the randomness: when
 * `needsNoise(i)` is true it draws `noise` (same shape as the latents) from its seeded stream and passes it to
 * `step`, so that a scheduler is pure arithmetic and a run replays exactly from (seed, parameters).
 */
export interface SchedulerStepResult {
  /** The latents for the next step (the final latents after the last step). */
  prevSample: Float32Array;
  /** The model's estimate of the clean latents x0 at this step (what previews show). */
  denoised: Float32Array;
}

export interface Scheduler {
  /** Timesteps of the current schedule, in the order they are run (descending). */
  readonly timesteps: readonly number[];
  /** Std of the initial noise; latents are drawn as N(0,1)·initNoiseSigma. */
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number, opts?: { originalInferenceSteps?: number; strength?: number }): void;
  /** Whether step `timestepIndex` consumes fresh noise. */
  needsNoise(timestepIndex: number): boolean;
  /** Scale the latents before the UNet call (identity for LCM). */
  scaleModelInput(sample: Float32Array, timestepIndex: number): Float32Array;
  step(modelOutput: Float32Array, timestepIndex: number, sample: Float32Array, noise?: Float32Array): SchedulerStepResult;
}
