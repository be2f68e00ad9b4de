import { chunkRowsOf, type SampleChunkPlan } from '../../compiler/graph/sample-chunks';
import { StudioError } from '../../../shared/errors';
import type { GenerationParams } from '../../../shared/domain/generation';
import { TorchCpuGenerator } from '../noise/torch-randn';
import { LCMScheduler } from '../schedulers/lcm';
import type { EmbeddingVocab } from '../embeddings/embedding-vocab';
import type { ClipTokenizer } from '../tokenizer/clip-tokenizer';
import { applyWeightsA1111, applyWeightsComfy, padChunks, tokenizeWeighted, type WeightedChunks } from '../tokenizer/prompt-weighting';
import { MAX_LONG_CLIP_FRAMES } from '../../../shared/domain/context-windows';
import { checkContextWindows } from '../../compiler/families/context-windows';
import { freeNoiseLatents } from '../freenoise/initial-noise';
import { encodePromptTravel, travels } from '../freenoise/prompt-travel-encode';
import type { PipelineModels } from './pipeline-models';
import { checkControlUnits, ControlStepper, type PipelineControl } from '../control/pipeline-control';
import type { PipelineMode } from './pipeline-mode';
import type { GuidanceCalls } from '../memory/estimate';
import type { ControlResiduals } from '../control/control-residuals';

/**
 * AnimateLCM text-to-video, read top to bottom like diffusers' pipeline_animatediff.py:
 *   1. check inputs  2. encode prompts  3. timesteps  4. initial latents  5. denoise (LCM + CFG)  6. decode.
 * Latents are kept in diffusers' video layout (B=1, C, F, h, w); the UNet sees frames folded into the batch.
 */

/** The generation parameters the sampling itself depends on (models and outputs are resolved by the caller). */
export type TextToVideoRequest = Pick<
  GenerationParams,
  'prompt' | 'negativePrompt' | 'seed' | 'steps' | 'guidance' | 'frames' | 'width' | 'height' | 'clipSkip' | 'weighting' | 'scheduler'
> &
  Partial<Pick<GenerationParams, 'contextWindows' | 'promptKeyframes'>>;

/** Tensors a caller can supply instead of computing them (the reference verification replays its own). */
export interface Injected {
  /** [1, tokens, D] each; `uncond` is only needed when guidance > 1. */
  promptEmbeds?: { cond: Float32Array; uncond?: Float32Array; tokens: number };
  /** Per-frame embeddings [F, tokens, D] each (prompt travel); `uncond` only when guidance > 1. */
  frameEmbeds?: { cond: Float32Array; uncond?: Float32Array; tokens: number };
  /** [1, C, F, h, w]. */
  initialLatents?: Float32Array;
  /** One [1, C, F, h, w] tensor per step but the last. */
  stepNoise?: Float32Array[];
}

export interface StepEvent {
  step: number;
  totalSteps: number;
  timestep: number;
  elapsedMs: number;
  /** The consistency model's current estimate of the clean latents x0, [1, C, F, h, w]. */
  denoised: Float32Array;
  latentShape: [number, number, number, number, number];
}

export interface StageEvent {
  stage: 'encode' | 'decode';
  done: number;
  total: number;
  elapsedMs: number;
}

export interface Trace {
  latentModelInput: Float32Array[];
  unetOutput: Float32Array[];
  noisePred: Float32Array[];
  latentsIn: Float32Array[];
  denoised: Float32Array[];
  latents: Float32Array[];
  decodedRaw?: Float32Array;
  /** Frames [F, H, W, 3] before a mode's `finish` (e.g. I2V colour matching); absent without one. */
  framesBeforeFinish?: Float32Array;
}

export interface TextToVideoOptions {
  tokenizer?: ClipTokenizer;
  /** Textual-inversion embeddings the prompts may call by name (the models must hold the same vocabulary). */
  embeddings?: EmbeddingVocab;
  signal?: AbortSignal;
  onStep?: (e: StepEvent) => void;
  /** Called as prompts are encoded and as each frame is decoded (`done` of `total`). */
  onStage?: (e: StageEvent) => void;
  inject?: Injected;
  trace?: boolean;
  /** ControlNet units (engine/control): their residuals go into every UNet call. Absent or empty ⇒ plain UNet. */
  control?: PipelineControl;
  /**
   * With guidance > 1: both halves in one batch-2 UNet call per step ('batched', default), or two batch-1 calls,
   * unconditional first ('separate'): the same numbers (up to float rounding) with half the UNet's activation
   * memory. The job guard picks 'separate' when the batched call would not fit (memory/guard.ts).
   */
  guidanceCalls?: GuidanceCalls;
  /**
   * The UNet under the CPU sample-chunk plan (compiler/graph/sample-chunks.ts): frames through the spatial layers a
   * few at a time, the same numbers with a fraction of the activation memory, a little slower. The job guard turns it
   * on when no plain way fits (memory/guard.ts); verify forces smaller plans to hold chunked graphs to the fixtures.
   */
  sampleChunks?: SampleChunkPlan;
  /** Advice that does not stop the run (e.g. a context length above the motion module's trained length). */
  onWarning?: (message: string) => void;
  /** Image-to-video / video-to-video: where the latents start, UNet extras, frame post-processing (pipeline-mode.ts). */
  mode?: PipelineMode;
}

export interface TextToVideoResult {
  /** [F, H, W, 3] in [0, 1] (diffusers' output_type "np"). */
  frames: Float32Array;
  frameCount: number;
  width: number;
  height: number;
  timesteps: number[];
  timings: { encodeMs: number; denoiseMs: number; unetMs: number; decodeMs: number; totalMs: number };
  trace?: Trace;
}

export async function textToVideo(models: PipelineModels, req: TextToVideoRequest, opts: TextToVideoOptions = {}): Promise<TextToVideoResult> {
  // Whatever the models kept for this clip (on a GPU: its text context on the device) goes when the clip ends,
  // however it ends.
  let completed = false;
  try {
    const result = await runTextToVideo(models, req, opts);
    completed = true;
    return result;
  } finally {
    models.endClip?.(completed);
  }
}

async function runTextToVideo(models: PipelineModels, req: TextToVideoRequest, opts: TextToVideoOptions): Promise<TextToVideoResult> {
  const t0 = performance.now();
  const { signal } = opts;

  // 1. Check inputs: concise errors rather than silent correction.
  checkInputs(models, req);
  const control = opts.control && opts.control.units.length > 0 ? opts.control : undefined;
  if (control) checkControlUnits(control.units, req.frames, req.width, req.height);
  const windows = req.contextWindows;
  if (windows) checkContextWindows(windows, req.frames, models.maxFrames).forEach((m) => opts.onWarning?.(m));
  const h = req.height / models.vaeScaleFactor;
  const w = req.width / models.vaeScaleFactor;
  const F = req.frames;
  const C = models.latentChannels;
  const doCfg = req.guidance > 1;
  const latentShape: [number, number, number, number, number] = [1, C, F, h, w];

  // 2. Encode prompts (weighted, chunked by 75 tokens; positive and negative padded to the same length).
  throwIfAborted(signal);
  opts.onStage?.({ stage: 'encode', done: 0, total: 1, elapsedMs: 0 });
  const travel = travels(req);
  const embeds = travel ? undefined : (opts.inject?.promptEmbeds ?? (await encodePrompts(models, req, doCfg, requireTokenizer(opts.tokenizer), opts.embeddings)));
  const frameEmbeds = travel ? (opts.inject?.frameEmbeds ?? (await encodePromptTravel(models, req, doCfg, requireTokenizer(opts.tokenizer), encodeChunks, opts.embeddings))) : undefined;
  const encodeMs = performance.now() - t0;
  opts.onStage?.({ stage: 'encode', done: 1, total: 1, elapsedMs: encodeMs });

  // 3. Timesteps.
  const scheduler = new LCMScheduler({
    beta_start: req.scheduler.beta_start,
    beta_end: req.scheduler.beta_end,
    beta_schedule: req.scheduler.beta_schedule,
    num_train_timesteps: req.scheduler.num_train_timesteps,
    original_inference_steps: req.scheduler.original_inference_steps,
    timestep_scaling: req.scheduler.timestep_scaling,
  });
  scheduler.setTimesteps(req.steps, { originalInferenceSteps: req.scheduler.original_inference_steps });
  const timesteps = scheduler.timesteps;

  // 4. Initial latents from the seed (torch CPU randn stream; later draws are the scheduler's noise).
  // A mode draws first (I2V: the image posterior; V2V: the video posterior and its noise), as the references do.
  const generator = new TorchCpuGenerator(req.seed);
  const prepared = opts.mode ? await opts.mode.prepare({ models, generator, scheduler, latentShape, signal }) : undefined;
  const firstStep = prepared?.firstStep ?? 0;
  let latents =
    opts.inject?.initialLatents ??
    prepared?.latents ??
    (windows ? freeNoiseLatents(generator, { batch: 1, channels: C, frames: F, height: h, width: w }, windows) : generator.randn(latentShape));
  if (latents.length !== C * F * h * w) {
    throw new StudioError('INVALID_PARAMS', `Initial latents have ${latents.length} values; expected ${C * F * h * w}.`);
  }

  // Context for every folded sample: uncond videos first, then cond, each repeated per frame.
  const D = models.contextDim;
  let tokens: number;
  let context: Float32Array;
  if (frameEmbeds) {
    tokens = frameEmbeds.tokens;
    context = doCfg ? concat(frameEmbeds.uncond!, frameEmbeds.cond) : frameEmbeds.cond;
  } else {
    const e = embeds!;
    tokens = e.tokens;
    context = repeatPerFrame(doCfg ? [e.uncond!, e.cond] : [e.cond], F, tokens * D);
  }
  const unetChunks = chunkRowsOf(opts.sampleChunks);
  const unetWindows = windows ? { windows: { length: windows.length, stride: windows.stride, weighting: windows.weighting, mode: windows.mode } } : {};

  // 5. Denoising loop.
  const trace: Trace | undefined = opts.trace ? { latentModelInput: [], unetOutput: [], noisePred: [], latentsIn: [], denoised: [], latents: [] } : undefined;
  let unetMs = 0;
  const stepper = control ? new ControlStepper(control, timesteps.length, doCfg ? 2 : 1) : undefined;
  const tLoop = performance.now();
  for (let i = firstStep; i < timesteps.length; i++) {
    throwIfAborted(signal);
    const tStep = performance.now();
    const t = timesteps[i];
    const folded = foldFrames(latents, C, F, h, w);
    const sample = doCfg ? concat(folded, folded) : folded;
    const tu = performance.now();
    const callShape = { batch: doCfg ? 2 : 1, frames: F, latentHeight: h, latentWidth: w, tokens, ...unetWindows, ...unetChunks };
    const residuals = stepper ? await stepper.residuals(i, sample, t, context, callShape) : undefined;
    let out: Float32Array;
    if (doCfg && opts.guidanceCalls === 'separate') {
      // uncond rows, then cond rows: each call sees exactly its half of the batched call's inputs
      const half = { ...callShape, batch: 1 };
      const ctx = context.length / 2;
      const extras = (k: 0 | 1) => (residuals ? { ...prepared?.extras, control: halfResiduals(residuals, k) } : prepared?.extras);
      const u = await models.unet(folded, t, context.subarray(0, ctx), half, extras(0));
      const c = await models.unet(folded, t, context.subarray(ctx), half, extras(1));
      out = concat(u, c);
    } else {
      out = await models.unet(sample, t, context, callShape, residuals ? { ...prepared?.extras, control: residuals } : prepared?.extras);
    }
    unetMs += performance.now() - tu;
    const per = C * F * h * w;
    let noisePred: Float32Array;
    if (doCfg) {
      const uncond = unfoldFrames(out.subarray(0, per), C, F, h, w);
      const cond = unfoldFrames(out.subarray(per, 2 * per), C, F, h, w);
      noisePred = new Float32Array(per);
      for (let k = 0; k < per; k++) noisePred[k] = uncond[k] + req.guidance * (cond[k] - uncond[k]);
    } else {
      noisePred = unfoldFrames(out, C, F, h, w);
    }
    const noise = i < timesteps.length - 1 ? (opts.inject?.stepNoise?.[i] ?? generator.randn(latentShape)) : undefined;
    const { prevSample, denoised } = scheduler.step(noisePred, i, latents, noise);
    if (trace) {
      trace.latentsIn.push(latents);
      trace.latentModelInput.push(doCfg ? concat(unfoldFrames(folded, C, F, h, w), unfoldFrames(folded, C, F, h, w)) : unfoldFrames(folded, C, F, h, w));
      trace.unetOutput.push(doCfg ? concat(unfoldFrames(out.subarray(0, per), C, F, h, w), unfoldFrames(out.subarray(per), C, F, h, w)) : unfoldFrames(out, C, F, h, w));
      trace.noisePred.push(noisePred);
      trace.denoised.push(denoised);
      trace.latents.push(prevSample);
    }
    latents = prevSample;
    opts.onStep?.({ step: i - firstStep + 1, totalSteps: timesteps.length - firstStep, timestep: t, elapsedMs: performance.now() - tStep, denoised, latentShape });
  }
  const denoiseMs = performance.now() - tLoop;

  // 6. Decode frame by frame (bounded memory), then map [-1, 1] → [0, 1].
  const tDec = performance.now();
  const H = req.height;
  const W = req.width;
  const frames = new Float32Array(F * H * W * 3);
  const decodedRaw = trace ? new Float32Array(3 * F * H * W) : undefined;
  const frameLatents = new Float32Array(C * h * w);
  for (let f = 0; f < F; f++) {
    throwIfAborted(signal);
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < h * w; p++) frameLatents[c * h * w + p] = latents[(c * F + f) * h * w + p] / models.vaeScalingFactor;
    }
    const image = await models.decode(frameLatents, h, w);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < H * W; p++) {
        const v = image[c * H * W + p];
        if (decodedRaw) decodedRaw[(c * F + f) * H * W + p] = v;
        frames[(f * H * W + p) * 3 + c] = Math.min(1, Math.max(0, v / 2 + 0.5));
      }
    }
    opts.onStage?.({ stage: 'decode', done: f + 1, total: F, elapsedMs: performance.now() - tDec });
  }
  if (trace) trace.decodedRaw = decodedRaw;
  const decodeMs = performance.now() - tDec;
  if (trace && opts.mode?.finish) trace.framesBeforeFinish = frames.slice();
  const finished = opts.mode?.finish ? opts.mode.finish(frames, F, H, W) : frames;

  return {
    frames: finished,
    frameCount: F,
    width: W,
    height: H,
    timesteps: timesteps.slice(firstStep),
    timings: { encodeMs, denoiseMs, unetMs, decodeMs, totalMs: performance.now() - t0 },
    trace,
  };
}

/** [F, H, W, 3] floats in [0, 1] → one RGB byte image per frame, rounded as diffusers does ((x·255).round()). */
export function framesToRGB8(frames: Float32Array, frameCount: number, width: number, height: number): Uint8Array[] {
  const per = width * height * 3;
  const out: Uint8Array[] = [];
  for (let f = 0; f < frameCount; f++) {
    const img = new Uint8Array(per);
    for (let k = 0; k < per; k++) img[k] = roundHalfEven(frames[f * per + k] * 255);
    out.push(img);
  }
  return out;
}

// numpy's round() is round-half-to-even.
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkInputs(models: PipelineModels, req: TextToVideoRequest): void {
  const s = models.vaeScaleFactor;
  const bad = (message: string, details: Record<string, unknown>): never => {
    throw new StudioError('INVALID_PARAMS', message, details);
  };
  if (!Number.isInteger(req.width) || !Number.isInteger(req.height) || req.width <= 0 || req.height <= 0 || req.width % s !== 0 || req.height % s !== 0) {
    bad(`Width and height must be positive multiples of ${s} pixels (got ${req.width}×${req.height}).`, { width: req.width, height: req.height, multiple: s });
  }
  // Context windows keep every motion-module attention within one window, so clips may exceed the trained length.
  const maxFrames = req.contextWindows ? MAX_LONG_CLIP_FRAMES : models.maxFrames;
  if (!Number.isInteger(req.frames) || req.frames < 1 || req.frames > maxFrames) {
    const hint = req.contextWindows ? ' with context windows' : ` for this motion module without context windows (turn them on for up to ${MAX_LONG_CLIP_FRAMES})`;
    bad(`Frames must be between 1 and ${maxFrames}${hint} (got ${req.frames}).`, { frames: req.frames, max: maxFrames });
  }
  if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > req.scheduler.original_inference_steps) {
    bad(`Steps must be between 1 and ${req.scheduler.original_inference_steps} (got ${req.steps}); AnimateLCM works best with 4–8.`, { steps: req.steps });
  }
  if (!Number.isFinite(req.guidance) || req.guidance < 0 || req.guidance > 20) {
    bad(`Guidance must be between 0 and 20 (got ${req.guidance}); AnimateLCM works best between 1 and 2.`, { guidance: req.guidance });
  }
  if (!Number.isSafeInteger(req.seed) || req.seed < 0) bad(`The seed must be a whole number from 0 to 2^53−1 (got ${req.seed}).`, { seed: req.seed });
  if (!Number.isInteger(req.clipSkip) || req.clipSkip < 1 || req.clipSkip > 4) bad(`CLIP skip must be 1–4 (got ${req.clipSkip}).`, { clipSkip: req.clipSkip });
}

async function encodePrompts(models: PipelineModels, req: TextToVideoRequest, doCfg: boolean, tokenizer: ClipTokenizer, embeddings?: EmbeddingVocab) {
  const pos = tokenizeWeighted(tokenizer, req.prompt, { mode: req.weighting, embeddings });
  const neg = tokenizeWeighted(tokenizer, req.negativePrompt, { mode: req.weighting, embeddings });
  const [p, n] = doCfg ? padChunks(pos, neg) : [pos, neg];
  const cond = await encodeChunks(models, req, tokenizer, p.chunks);
  const uncond = doCfg ? await encodeChunks(models, req, tokenizer, n.chunks) : undefined;
  return { cond, uncond, tokens: p.chunks.length * 77 };
}

/** One prompt's weighted chunks → [77·k, D] (weights applied per chunk, A1111 or Comfy style). */
export async function encodeChunks(models: PipelineModels, req: TextToVideoRequest, tokenizer: ClipTokenizer, chunks: WeightedChunks['chunks']): Promise<Float32Array> {
  const D = models.contextDim;
  let empty: Float32Array | undefined;
  const out = new Float32Array(chunks.length * 77 * D);
  for (let k = 0; k < chunks.length; k++) {
    let z = await models.encodeText(chunks[k].ids, req.clipSkip);
    if (chunks[k].weights.some((x) => x !== 1)) {
      if (req.weighting === 'comfy') {
        empty ??= await models.encodeText(tokenizer.inputIds(''), req.clipSkip);
        z = applyWeightsComfy(z, empty, chunks[k].weights, 77, D);
      } else {
        z = applyWeightsA1111(z, chunks[k].weights, 77, D);
      }
    }
    out.set(z, k * 77 * D);
  }
  return out;
}

function requireTokenizer(t: ClipTokenizer | undefined): ClipTokenizer {
  if (!t) throw new StudioError('INTERNAL', 'The pipeline needs a tokenizer unless prompt embeddings are supplied.');
  return t;
}

/** (1, C, F, h, w) → (F, C, h, w): frames fold into the batch, index f. */
export function foldFrames(x: Float32Array, C: number, F: number, h: number, w: number): Float32Array {
  const hw = h * w;
  const out = new Float32Array(C * F * hw);
  for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) out.set(x.subarray((c * F + f) * hw, (c * F + f + 1) * hw), (f * C + c) * hw);
  return out;
}

/** (F, C, h, w) → (1, C, F, h, w). */
export function unfoldFrames(x: Float32Array, C: number, F: number, h: number, w: number): Float32Array {
  const hw = h * w;
  const out = new Float32Array(C * F * hw);
  for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) out.set(x.subarray((f * C + c) * hw, (f * C + c + 1) * hw), (c * F + f) * hw);
  return out;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function repeatPerFrame(videos: Float32Array[], F: number, per: number): Float32Array {
  const out = new Float32Array(videos.length * F * per);
  videos.forEach((v, b) => {
    for (let f = 0; f < F; f++) out.set(v.subarray(0, per), (b * F + f) * per);
  });
  return out;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('CANCELLED', 'Generation cancelled.');
}

/** The first (k = 0, unconditional) or second half of batch-2 ControlNet residuals (rows are batch-major). */
function halfResiduals(r: ControlResiduals, k: 0 | 1): ControlResiduals {
  const half = (a: Float32Array): Float32Array => a.subarray((k * a.length) / 2, ((k + 1) * a.length) / 2);
  return { down: r.down.map(half), mid: half(r.mid) };
}
