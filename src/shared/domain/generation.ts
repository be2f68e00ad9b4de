/**
 * What a generation is, as every layer sees it: the renderer's form, the queue, the pipeline, the history row
 * and the metadata embedded in exported clips. Everything needed to reproduce a clip is here.
 */

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

/** Graph precision: `auto` = fp16 where the device runs fp16 graphs, else fp32 (engine/runtime/precision.ts). */
export type PrecisionChoice = 'auto' | 'fp16' | 'fp32';

/**
 * The provider order when nothing else is chosen: the fastest that starts — CUDA (when its libraries are
 * installed), DirectML (Windows), WebGPU (a real GPU; software adapters are skipped), then the CPU.
 */
export const AUTO_PROVIDERS: ProviderName[] = ['cuda', 'dml', 'webgpu', 'cpu'];

export type WeightingMode = 'a1111' | 'comfy';
export type MotionGroupNormMode = 'per_frame' | 'across_frames';

export interface LoraRef {
  /** Path of the LoRA file (or a library id resolved to a path by the services). */
  path: string;
  weight: number;
  enabled?: boolean;
  /** SHA-256 of the file, filled in by the services for the history record. */
  sha256?: string;
  name?: string;
}

export interface SchedulerConfig {
  name: 'lcm';
  beta_start: number;
  beta_end: number;
  beta_schedule: 'linear' | 'scaled_linear';
  num_train_timesteps: number;
  original_inference_steps: number;
  timestep_scaling: number;
}

export interface GenerationParams {
  prompt: string;
  negativePrompt: string;
  /** 0 … 2^53−1 (a JSON-safe integer); the noise generator seeds torch-style from it. */
  seed: number;
  steps: number;
  guidance: number;
  frames: number;
  width: number;
  height: number;
  fps: number;
  /** Checkpoint path; undefined = the built-in starter model. */
  model?: string;
  /** Motion-module path; undefined = the starter model's. */
  motion?: string;
  /** AnimateLCM spatial LoRA and its weight (default 0.8). */
  lcmLora?: { path: string; weight: number };
  loras: LoraRef[];
  clipSkip: number;
  weighting: WeightingMode;
  motionGroupNorm: MotionGroupNormMode;
  scheduler: SchedulerConfig;
  providers: ProviderName[];
  /** fp16 / fp32 graphs; absent = auto. */
  precision?: PrecisionChoice;
}

/** AnimateLCM's official T2V settings (G-U-N/AnimateLCM inference-t2v.yaml and its Gradio defaults). */
export const DEFAULT_SCHEDULER: SchedulerConfig = {
  name: 'lcm',
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'linear',
  num_train_timesteps: 1000,
  original_inference_steps: 100,
  timestep_scaling: 10,
};

export const DEFAULT_PARAMS: GenerationParams = {
  prompt: '',
  negativePrompt: '',
  seed: 0,
  steps: 6,
  guidance: 1.5,
  frames: 16,
  width: 512,
  height: 512,
  fps: 8,
  loras: [],
  clipSkip: 1,
  weighting: 'a1111',
  motionGroupNorm: 'per_frame',
  scheduler: DEFAULT_SCHEDULER,
  providers: [...AUTO_PROVIDERS],
};

export const DEFAULT_LCM_LORA_WEIGHT = 0.8;

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface StageTimings {
  /** Milliseconds per stage; keys such as compile, encode, denoise, decode, write. */
  [stage: string]: number;
}

/** A progress event per sampling step (and per stage). `preview` frames are small RGB images of x0. */
export interface StepProgress {
  jobId: string;
  stage: 'compile' | 'encode' | 'denoise' | 'decode' | 'write';
  step: number;
  totalSteps: number;
  /** ms spent in this step / stage so far. */
  elapsedMs: number;
  etaMs?: number;
  message?: string;
  preview?: PreviewFrames;
}

export interface PreviewFrames {
  width: number;
  height: number;
  /** One RGB (3 bytes/pixel) image per frame, base64 on the wire. */
  frames: string[];
}
