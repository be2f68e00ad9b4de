import type { ControlNetUnit } from './controlnet';
/**
 * What a generation is, as every layer sees it: the renderer's form, the queue, the pipeline, the history row
 * and the metadata embedded in exported clips. Everything needed to reproduce a clip is here.
 */

import type { ContextWindowParams, PromptKeyframe } from './context-windows';

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

/**
 * Graph precision: `auto` = fp16 where the device runs fp16 graphs, else fp32 (engine/runtime/precision.ts).
 * `int8` = the labelled faster CPU option: fp32 graphs whose UNet Linear and conv layers run as int8 products — faster,
 * approximate (quality measured in bench/README.md); on a GPU provider it falls back to `auto`.
 */
export type PrecisionChoice = 'auto' | 'fp16' | 'fp32' | 'int8';

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

/** A textual-inversion embedding a prompt calls by name (A1111's convention: the file name is the word). */
export interface EmbeddingRef {
  /** Path of the embedding file (.pt, .safetensors, .bin). */
  path: string;
  /** The word that calls it, filled in by the engine from the file (for the history record). */
  name?: string;
  /** Vectors it takes in the prompt, filled in by the engine. */
  vectors?: number;
  /** SHA-256 of the file, filled in by the services for the history record. */
  sha256?: string;
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
  /** Textual-inversion embeddings the prompt and negative prompt may use by name. */
  embeddings?: EmbeddingRef[];
  /** Standalone VAE file replacing the checkpoint's VAE for this generation; undefined = the checkpoint's. */
  vae?: string;
  clipSkip: number;
  weighting: WeightingMode;
  motionGroupNorm: MotionGroupNormMode;
  scheduler: SchedulerConfig;
  providers: ProviderName[];
  /** ControlNet units (domain/controlnet.ts), applied in order; absent or empty = none. */
  controlNets?: ControlNetUnit[];
  /**
   * FreeNoise context windows (long clips, context-windows.ts); absent = the motion module sees every frame at
   * once, as before (up to its trained length).
   */
  contextWindows?: ContextWindowParams;
  /** Prompt travel: prompts from later frames on (`prompt` is frame 0's); absent or empty = one prompt. */
  promptKeyframes?: PromptKeyframe[];
  /** Image-to-video or video-to-video input; absent = text-to-video. */
  input?: GenerationInput;
  /** fp16 / fp32 graphs; absent = auto. */
  precision?: PrecisionChoice;
}

/**
 * The picture or clip a generation starts from. `path` is the copy in the data folder (`inputs/<sha256>.<ext>`,
 * a frames folder as `inputs/<sha256>/`) once the services have stored it, so history can re-run it exactly.
 */
export type GenerationInput =
  | {
      kind: 'image';
      path: string;
      sha256?: string;
      /** AnimateLCM-I2V's motion scale, 0–1.5 (its app's default 0.8; smaller keeps the image's identity). */
      motionScale: number;
      /** AnimateLCM's colour adjustment of the frames toward the image (on in the authors' app). */
      colorMatch: boolean;
    }
  | {
      kind: 'video';
      path: string;
      sha256?: string;
      /** How much of the schedule runs: ⌊steps·strength⌋ steps (diffusers' video-to-video), 0 < strength ≤ 1. */
      strength: number;
    };

export const DEFAULT_MOTION_SCALE = 0.8;
export const DEFAULT_V2V_STRENGTH = 0.6;

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

/**
 * Bounds every entry point checks before a job exists (API validation, CLI flags): sides are multiples of the VAE's
 * 8× factor; within them, whether a size fits THIS machine is the engine's memory guard's call.
 */
export const GENERATION_LIMITS = {
  side: { min: 64, max: 2048, multiple: 8 },
  frames: { min: 1, max: 256 },
} as const;

/** AnimateLCM-I2V's scheduler (configs/inference-i2v.yaml): beta_end 0.014, original_inference_steps 200 (steps_offset 1 is unused by LCM). */
export const I2V_SCHEDULER: SchedulerConfig = { ...DEFAULT_SCHEDULER, beta_end: 0.014, original_inference_steps: 200 };

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
  /** Denoise steps of a clip with context windows: how many windows of how many frames each step runs. */
  contextWindows?: { count: number; length: number };
}

export interface PreviewFrames {
  width: number;
  height: number;
  /** One RGB (3 bytes/pixel) image per frame, base64 on the wire. */
  frames: string[];
}
