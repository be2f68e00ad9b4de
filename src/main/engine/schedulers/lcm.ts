import { StudioError } from '../../../shared/errors';
import type { Scheduler, SchedulerStepResult } from './scheduler';

/**
 * Latent Consistency Model scheduler, diffusers' `LCMScheduler` contract (scheduling_lcm.py; AnimateLCM ships a
 * copy that is identical on the paths used here). Field names are diffusers' so a `scheduler_config.json` loads
 * as is.
 *
 * Every tensor operation is replayed in float32 with the rounding torch 1.13 does on CPU (each `Math.fround` is one
 * torch op), so trajectories match the reference bit for bit: betas from torch's vectorised float32 `linspace`
 * (whose base term the compiler fuses into an FMA), `cumprod` accumulated in double as torch's CPU kernel does, the
 * boundary-condition scalings computed in float32 from the integer timestep.
 */
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';

export interface LCMSchedulerConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
  /**
   * Length of the schedule the model was distilled on; inference timesteps are picked from it.
   * AnimateLCM's official inference config uses 100 (our default); diffusers' LCMScheduler default is 50, and
   * ComfyUI-AnimateDiff-Evolved's "lcm" schedule uses 50 with scaled_linear betas.
   */
  original_inference_steps: number;
  clip_sample: boolean;
  clip_sample_range: number;
  set_alpha_to_one: boolean;
  /** Unused by LCM (kept so diffusers configs round-trip). */
  steps_offset: number;
  prediction_type: PredictionType;
  thresholding: boolean;
  /** Unused by LCM (kept so diffusers configs round-trip). */
  timestep_spacing: string;
  timestep_scaling: number;
  rescale_betas_zero_snr: boolean;
}

const f32 = Math.fround;
const SIGMA_DATA = 0.5;

/** diffusers' LCMScheduler `__init__` defaults (original_inference_steps 50). */
export const DIFFUSERS_LCM_DEFAULTS: Readonly<LCMSchedulerConfig> = Object.freeze({
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  timestep_spacing: 'leading',
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
});

export class LCMScheduler implements Scheduler {
  /** The product's defaults: AnimateLCM's official inference config (linear betas, 100 original steps). */
  static readonly defaults: Readonly<LCMSchedulerConfig> = Object.freeze({
    ...DIFFUSERS_LCM_DEFAULTS,
    beta_schedule: 'linear',
    original_inference_steps: 100,
    steps_offset: 1,
  });

  readonly config: Readonly<LCMSchedulerConfig>;
  readonly betas: Float32Array;
  readonly alphasCumprod: Float32Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1.0;
  timesteps: number[] = [];
  numInferenceSteps = 0;

  constructor(config: Partial<LCMSchedulerConfig> = {}) {
    this.config = Object.freeze({ ...LCMScheduler.defaults, ...stripUndefined(config) });
    const c = this.config;
    if (c.thresholding) throw invalid('Dynamic thresholding is not supported by this LCM scheduler.', { thresholding: true });
    if (c.rescale_betas_zero_snr) throw invalid('Zero-terminal-SNR rescaling is not supported by this LCM scheduler.', { rescale_betas_zero_snr: true });
    if (!['epsilon', 'v_prediction', 'sample'].includes(c.prediction_type)) {
      throw invalid(`Unknown prediction type "${c.prediction_type}" (expected epsilon, v_prediction or sample).`, { prediction_type: c.prediction_type });
    }
    this.betas = makeBetas(c);
    this.alphasCumprod = cumprodOneMinus(this.betas);
    this.finalAlphaCumprod = c.set_alpha_to_one ? 1.0 : this.alphasCumprod[0];
  }

  /** A scheduler from a diffusers `scheduler_config.json`, missing fields taking *diffusers'* defaults (50 steps). */
  static fromDiffusersConfig(json: Record<string, unknown>): LCMScheduler {
    const picked: Partial<LCMSchedulerConfig> = {};
    for (const key of Object.keys(DIFFUSERS_LCM_DEFAULTS) as (keyof LCMSchedulerConfig)[]) {
      if (key in json && json[key] !== undefined) (picked as Record<string, unknown>)[key] = json[key];
    }
    return new LCMScheduler({ ...DIFFUSERS_LCM_DEFAULTS, ...picked });
  }

  /**
   * diffusers `set_timesteps`: the distillation schedule is every k-th training step (k = T // original steps,
   * timesteps k−1, 2k−1, …), truncated by `strength`, reversed, and N of them taken at floor(linspace(0, L, N)).
   */
  setTimesteps(numInferenceSteps: number, opts: { originalInferenceSteps?: number; strength?: number } = {}): void {
    const T = this.config.num_train_timesteps;
    const original = opts.originalInferenceSteps ?? this.config.original_inference_steps;
    const strength = opts.strength ?? 1.0;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw invalid(`Steps must be a whole number of at least 1 (got ${numInferenceSteps}).`, { numInferenceSteps });
    }
    if (!Number.isInteger(original) || original < 1 || original > T) {
      throw invalid(`original_inference_steps must be between 1 and ${T} (got ${original}).`, { original });
    }
    const k = Math.floor(T / original);
    const count = Math.trunc(original * strength);
    const origin: number[] = [];
    for (let i = count; i >= 1; i--) origin.push(i * k - 1); // already reversed (descending)
    if (numInferenceSteps > T || Math.floor(origin.length / numInferenceSteps) < 1 || numInferenceSteps > original) {
      throw invalid(
        `LCM cannot take ${numInferenceSteps} steps from a schedule of ${origin.length} (original_inference_steps ${original} × strength ${strength}); use at most ${Math.min(origin.length, original)} steps.`,
        { numInferenceSteps, original, strength },
      );
    }
    const L = origin.length;
    const stride = L / numInferenceSteps; // numpy linspace(0, L, N, endpoint=False) = arange(N) · (L / N)
    this.timesteps = Array.from({ length: numInferenceSteps }, (_, j) => origin[Math.floor(j * stride)]);
    this.numInferenceSteps = numInferenceSteps;
  }

  needsNoise(timestepIndex: number): boolean {
    return timestepIndex < this.timesteps.length - 1;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  /** c_skip and c_out of the consistency boundary condition, in float32 as diffusers computes them. */
  boundaryScalings(timestep: number): { cSkip: number; cOut: number } {
    const scaled = f32(timestep * this.config.timestep_scaling);
    const denom = f32(f32(scaled * scaled) + SIGMA_DATA * SIGMA_DATA);
    return { cSkip: f32((SIGMA_DATA * SIGMA_DATA) / denom), cOut: f32(scaled / f32(Math.sqrt(denom))) };
  }

  /** The per-step scalars (what the fixtures' steps.json lists), for logging and tests. */
  stepScalars(timestepIndex: number): { timestep: number; prevTimestep: number; alphaProdT: number; alphaProdTPrev: number; cSkip: number; cOut: number } {
    const t = this.timestepAt(timestepIndex);
    const prevT = timestepIndex + 1 < this.timesteps.length ? this.timesteps[timestepIndex + 1] : t;
    const alphaProdT = this.alphasCumprod[t];
    const alphaProdTPrev = prevT >= 0 ? this.alphasCumprod[prevT] : this.finalAlphaCumprod;
    return { timestep: t, prevTimestep: prevT, alphaProdT, alphaProdTPrev, ...this.boundaryScalings(t) };
  }

  step(modelOutput: Float32Array, timestepIndex: number, sample: Float32Array, noise?: Float32Array): SchedulerStepResult {
    if (modelOutput.length !== sample.length) {
      throw invalid(`model output (${modelOutput.length}) and sample (${sample.length}) differ in size.`, {});
    }
    const s = this.stepScalars(timestepIndex);
    const sqrtA = f32(Math.sqrt(s.alphaProdT));
    const sqrtB = f32(Math.sqrt(f32(1 - s.alphaProdT)));
    const n = sample.length;
    const denoised = new Float32Array(n);
    const pred = this.config.prediction_type;
    const clip = this.config.clip_sample ? this.config.clip_sample_range : 0;
    for (let i = 0; i < n; i++) {
      const x = sample[i];
      const e = modelOutput[i];
      let x0: number;
      if (pred === 'epsilon') x0 = f32(f32(x - f32(sqrtB * e)) / sqrtA);
      else if (pred === 'sample') x0 = e;
      else x0 = f32(f32(sqrtA * x) - f32(sqrtB * e)); // v_prediction
      if (clip > 0) x0 = Math.min(clip, Math.max(-clip, x0));
      denoised[i] = f32(f32(s.cOut * x0) + f32(s.cSkip * x));
    }
    if (!this.needsNoise(timestepIndex)) return { prevSample: denoised.slice(), denoised };
    if (!noise || noise.length !== n) {
      throw invalid(`LCM step ${timestepIndex} needs fresh noise of ${n} values.`, { timestepIndex, got: noise?.length ?? 0 });
    }
    const sqrtAPrev = f32(Math.sqrt(s.alphaProdTPrev));
    const sqrtBPrev = f32(Math.sqrt(f32(1 - s.alphaProdTPrev)));
    const prevSample = new Float32Array(n);
    for (let i = 0; i < n; i++) prevSample[i] = f32(f32(sqrtAPrev * denoised[i]) + f32(sqrtBPrev * noise[i]));
    return { prevSample, denoised };
  }

  private timestepAt(index: number): number {
    const t = this.timesteps[index];
    if (t === undefined) {
      throw invalid(`Step index ${index} is outside the schedule of ${this.timesteps.length} steps (call setTimesteps first).`, { index });
    }
    return t;
  }
}

function invalid(message: string, details: Record<string, unknown>): StudioError {
  return new StudioError('INVALID_PARAMS', message, details);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** betas as float32, the way diffusers builds them with torch. */
function makeBetas(c: LCMSchedulerConfig): Float32Array {
  const T = c.num_train_timesteps;
  if (c.trained_betas) {
    if (c.trained_betas.length !== T) throw invalid(`trained_betas has ${c.trained_betas.length} values, expected ${T}.`, {});
    return Float32Array.from(c.trained_betas);
  }
  switch (c.beta_schedule) {
    case 'linear':
      return torchLinspaceF32(c.beta_start, c.beta_end, T);
    case 'scaled_linear': {
      const b = torchLinspaceF32(Math.sqrt(c.beta_start), Math.sqrt(c.beta_end), T);
      for (let i = 0; i < T; i++) b[i] = f32(b[i] * b[i]);
      return b;
    }
    case 'squaredcos_cap_v2': {
      // diffusers betas_for_alpha_bar (cosine), computed in float64 then stored as float32.
      const abar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
      const b = new Float32Array(T);
      for (let i = 0; i < T; i++) b[i] = Math.min(1 - abar((i + 1) / T) / abar(i / T), 0.999);
      return b;
    }
    default:
      throw invalid(`Unknown beta schedule "${String(c.beta_schedule)}" (expected linear, scaled_linear or squaredcos_cap_v2).`, {});
  }
}

/**
 * torch.linspace(start, end, steps, dtype=float32) on an AVX2 CPU: step = (end − start)/(steps − 1) in float;
 * the first half counts up from start, the second half down from end; 16 values per loop iteration as two
 * 8-lane `arange(base, step)` vectors whose base is fused (FMA), the remainder one by one.
 */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  // One rounding: a float product is exact in double, so this is fma(step, n, s) rounded to float.
  const at = (idx: number): number => (idx < half ? f32(s + step * idx) : f32(e - step * (steps - idx - 1)));
  const LANES = 8;
  let i = 0;
  for (; i <= steps - 2 * LANES; i += 2 * LANES) {
    for (const v of [i, i + LANES]) {
      const base = at(v);
      out[v] = base;
      for (let k = 1; k < LANES; k++) out[v + k] = f32(base + f32(k * step));
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

/** cumprod(1 − β): torch's CPU cumprod accumulates float32 inputs in double and stores each prefix as float32. */
function cumprodOneMinus(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f32(1 - betas[i]);
    out[i] = acc;
  }
  return out;
}
