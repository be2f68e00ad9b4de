import { CPU_SAMPLE_CHUNKS } from '../compiler/graph/sample-chunks';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StudioError } from '../../shared/errors';
import { AUTO_PROVIDERS, type GenerationParams, type ProviderName, type StageTimings, type StepProgress } from '../../shared/domain/generation';
import type { RanOn } from '../../shared/domain/history';
import { COMPILER_VERSION } from '../compiler/cache';
import { paramsPayload, pngTextChunks } from '../formats/params-payload';
import { encodePng } from '../formats/png';
import type { CompileEvent } from './models/graph-compiler';
import type { LoraSwitch } from './models/lora-feeds';
import { sessionBudgetBytes } from './memory/estimate';
import { checkMemoryFits } from './memory/guard';
import { machineMemory } from './memory/machine';
import { windowFusionPlan } from '../compiler/families/context-windows';
import { ModelSet } from './models/model-set';
import { ANIMATELCM_LORA_SCALE, fileSource, type LoraSpec } from './models/model-source';
import { inputMode } from './pipelines/input-mode';
import { NOISE_GENERATOR } from './noise/torch-randn';
import { engineInfo, type EngineInfo } from './runtime/info';
import { choosePrecision } from './runtime/precision';
import { guardFp16 } from './pipelines/fp16-guard';
import { providerLabel } from './runtime/session';
import { framesToRGB8, textToVideo } from './pipelines/text-to-video';
import { latentsToPreviewRGB } from './preview/latent-rgb';
import { ClipTokenizer } from './tokenizer/clip-tokenizer';
import { readEmbeddingFile } from './embeddings/embedding-file';
import { EmbeddingVocab } from './embeddings/embedding-vocab';
import { prepareControl, type PreparedControl } from './control/generation-control';

/**
 * One generation, start to finish, for both the CLI and the engine worker:
 *   resolve the models (starter model when no checkpoint) → compile/open what this shape needs (cached) →
 *   text-to-video pipeline with per-step progress and previews → frames as PNG + params.json, written into a
 *   temporary sibling folder and renamed into place, so the output folder exists only when complete.
 * Models stay loaded between calls while model, LoRA stack, providers and GroupNorm mode are unchanged.
 */

/** Recorded with each generation (history), so a clip can be traced to the code that made it. */
export const ENGINE_VERSION = `engine-1+compiler-${COMPILER_VERSION}`;

export interface GenerateRequest {
  params: GenerationParams;
  /** Folder that will hold frame_0000.png … and params.json. Replaced if it holds a previous output. */
  outDir: string;
  /** The compile cache (`<data dir>/cache`). */
  cacheRoot: string;
  intraOpThreads?: number;
  /** With `params.input`: the input decoded by the main process, as 8-bit RGB PNGs (pipelines/input-mode.ts). */
  inputFrames?: string[];
}

/** Progress as the shared StepProgress, without the job id (the worker adds it). */
export type GenerateProgress = Omit<StepProgress, 'jobId'> & { compile?: CompileEvent };

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (p: GenerateProgress) => void;
}

export interface GenerateResult {
  outDir: string;
  frameCount: number;
  width: number;
  height: number;
  fps: number;
  params: GenerationParams;
  model: { label: string; isStarter: boolean };
  noise: { name: string; version: string; seed: number };
  engineVersion: string;
  /** Milliseconds per stage: compile, encode, denoise (unet within it), decode, write, total. */
  timings: StageTimings;
  /** Graphs compiled by this call (empty when everything came from the cache or was already open). */
  compiled: string[];
  loraReports: string[];
  /** The guard's estimate of this generation's peak (host, and device on a GPU) and the process's real peak RSS so far. */
  memory: { estimatedHostBytes: number; estimatedDeviceBytes: number; peakRssBytes: number };
  /** The provider the models were compiled for, the precision they ran in, and the stages re-run in fp32. */
  ranOn: RanOn;
}

let tokenizer: ClipTokenizer | undefined;
/** The open set; `fp32` is its fp32 twin, opened only when an fp16 stage overflowed (guardFp16). */
let current: { key: string; set: ModelSet; fp32?: Promise<ModelSet> } | undefined;

/** Closes the models kept open between generations (CLI exit, tests, memory pressure). */
export async function releaseModels(): Promise<void> {
  const c = current;
  current = undefined;
  await c?.set.dispose();
  await (await c?.fp32?.catch(() => undefined))?.dispose();
}

/**
 * The requested providers that start here, in order (CPU last resort), with the probe's findings: what a job will
 * really run on, for its precision and for the memory guard.
 */
export async function runnableProviders(requested: readonly ProviderName[], onNote?: (message: string) => void): Promise<{ providers: ProviderName[]; info: EngineInfo | undefined }> {
  // Precision follows the provider that will really run (fp16 graphs on a CPU fallback would be slow and lossy),
  // so unusable providers are dropped here, with a note, rather than discovered when a session fails to start.
  // (The probe tries every provider, so it is skipped when only the CPU is asked for.)
  let providers: ProviderName[] = requested.filter((p) => p === 'cpu');
  let info: EngineInfo | undefined;
  if (providers.length !== requested.length) {
    info = await engineInfo();
    const found = info;
    // In the automatic order a software WebGPU adapter (SwiftShader, llvmpipe) is passed over: it is slower than
    // the CPU provider. Chosen explicitly, it is used.
    const auto = requested.length === AUTO_PROVIDERS.length && requested.every((p, i) => p === AUTO_PROVIDERS[i]);
    const skip = (p: ProviderName): string | undefined => {
      const i = found.providers.find((x) => x.name === p);
      if (!i?.usable) return i?.reason ?? `${providerLabel(p)} is not available.`;
      if (auto && i.device?.software) return `WebGPU runs on ${i.device.name} here, slower than the CPU provider (choose WebGPU in Settings to use it anyway).`;
      return undefined;
    };
    providers = requested.filter((p) => skip(p) === undefined);
    const first = providerLabel(providers[0] ?? 'cpu');
    // In the automatic order, why CUDA or DirectML were passed over is about the machine, not this job: the status
    // bar lists unusable providers with their reasons once (engine info). A provider chosen explicitly that does
    // not start is a fallback that happened to this job, so it gets a note.
    for (const p of auto ? [] : requested) {
      const why = skip(p);
      if (why !== undefined && requested.indexOf(p) < requested.indexOf(providers[0] ?? 'cpu')) onNote?.(`${why} Running on ${first} instead.`);
    }
  }
  if (providers.length === 0) providers.push('cpu');
  return { providers, info };
}

/** The model set for these parameters, reusing the open one when nothing that shapes it changed. */
export async function acquireModels(params: GenerationParams, cacheRoot: string, intraOpThreads?: number, onNote?: (message: string) => void): Promise<ModelSet> {
  const { providers, info } = await runnableProviders(params.providers, onNote);
  const decision = choosePrecision(providers[0], info?.providers.find((p) => p.name === providers[0])?.device, params.precision);
  onNote?.(`Precision: ${decision.why}`);
  const loras = lorasOf(params);
  const stamp = (p: string | undefined): string | undefined => (p && existsSync(p) ? `${resolve(p)}@${statSync(p).mtimeMs}:${statSync(p).size}` : p);
  // The LoRA stack is not part of the key: a loaded set switches it at run time (ModelSet.setLoras — slot feeds,
  // no recompile, no base weight read).
  const key = JSON.stringify({
    model: stamp(params.model),
    motion: stamp(params.motion),
    providers,
    precision: decision.precision,
    quant: decision.quant ?? 'float',
    groupnorm: params.motionGroupNorm,
    cacheRoot: resolve(cacheRoot),
    intraOpThreads,
  });
  if (current?.key === key) {
    const sw = current.set.setLoras(loras);
    if (sw.paths.unet !== 'none' || sw.paths.text_encoder !== 'none' || current.set.stats.loraSwitches > 0) {
      onNote?.(`${sw.message} (${Math.round(sw.elapsedMs)} ms)`);
      coverageNotes(sw, onNote);
    }
    return current.set;
  }
  await releaseModels();
  const source = fileSource({ model: params.model, motion: params.motion, loras });
  let set: ModelSet;
  try {
    // Sessions are kept while they fit this machine (least recently used close first), estimated like the job guard.
    const sessionBudget = sessionBudgetBytes(machineMemory(providers), providers[0] !== 'cpu');
    set = new ModelSet(source, { cacheRoot, providers, precision: decision.precision, quant: decision.quant, groupnorm: params.motionGroupNorm, intraOpThreads, sessionBudgetBytes: sessionBudget });
  } catch (e) {
    source.close(); // a LoRA that cannot be applied must not leave the checkpoint open
    throw e;
  }
  if (loras.length > 0) {
    onNote?.(set.loraSwitch.message);
    coverageNotes(set.loraSwitch, onNote);
  }
  current = { key, set };
  return set;
}

/** The fp32 twin of the open fp16 set (same model, LoRA stack and providers), opened once per set. */
function fp32Twin(set: ModelSet, req: GenerateRequest): Promise<ModelSet> {
  const c = current;
  if (!c || c.set !== set) throw new Error('the fp16 set is no longer the open one');
  const { params } = req;
  c.fp32 ??= Promise.resolve().then(
    () =>
      new ModelSet(fileSource({ model: params.model, motion: params.motion, loras: lorasOf(params) }), {
        cacheRoot: req.cacheRoot,
        providers: set.providers,
        precision: 'float32',
        groupnorm: set.groupnorm,
        intraOpThreads: req.intraOpThreads,
      }),
  );
  return c.fp32;
}

/** The LoRA stack of a request, in application order (AnimateLCM's LoRA first). */
function lorasOf(params: GenerationParams): LoraSpec[] {
  const loras: LoraSpec[] = [];
  // AnimateLCM-I2V loads its spatial LoRA with convert_lcm_lora's fixed 1/8 scale, whatever the file's alpha says.
  if (params.lcmLora) loras.push({ path: resolve(params.lcmLora.path), weight: params.lcmLora.weight, ...(params.input?.kind === 'image' ? { fixedScale: ANIMATELCM_LORA_SCALE } : {}) });
  for (const l of params.loras) if (l.enabled !== false) loras.push({ path: resolve(l.path), weight: l.weight });
  return loras;
}

/** One note per LoRA file with its coverage ("applied 264/264 keys", or what was not applied), so a creator sees
 *  a LoRA that only partly fits the model. */
function coverageNotes(sw: LoraSwitch, onNote: ((message: string) => void) | undefined): void {
  for (const r of sw.reports) onNote?.(`${basename(r.file)}: ${r.message}`);
}

export async function generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const t0 = performance.now();
  let { params } = req;
  const { signal } = opts;
  const emit = (p: GenerateProgress): void => opts.onProgress?.(p);
  checkAborted(signal);
  const outDir = resolve(req.outDir);
  checkDestination(outDir);

  const set = await acquireModels(params, req.cacheRoot, req.intraOpThreads, (message) =>
    emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message }),
  );
  // Refuse what cannot fit before anything is compiled or opened (memory/guard.ts).
  const memory = checkMemoryFits(set.source, params, set.target, machineMemory(set.providers));
  const compiledBefore = set.compiled.length;
  let compileMs = 0;
  set.onCompile = (e) => {
    if (e.phase === 'done') compileMs += e.elapsedMs;
    emit({ stage: 'compile', step: e.phase === 'done' ? 1 : 0, totalSteps: 1, elapsedMs: e.elapsedMs, message: e.message, compile: e });
  };
  set.onNote = (message) => emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message });
  tokenizer ??= ClipTokenizer.load();
  // Per generation: a standalone VAE instead of the checkpoint's (only the VAE sessions change), and the
  // textual-inversion embeddings the prompts may call by name (small files, read every time).
  set.setVae(params.vae ? resolve(params.vae) : undefined);
  const embeddings = loadEmbeddings(params, set.source.configs.text_encoder.hidden_size, tokenizer);
  set.setEmbeddings(embeddings);
  if (params.vae) emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message: `VAE: ${basename(params.vae)} (instead of the checkpoint's).` });
  if (embeddings) {
    emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message: `Embeddings: ${embeddings.embeddings.map((e) => `${e.name} (${e.count} vector${e.count === 1 ? '' : 's'})`).join(', ')}.` });
    // Recorded with the output (params.json, PNG chunks): the word and vector count each file gave.
    params = { ...params, embeddings: (params.embeddings ?? []).map((e, i) => ({ ...e, name: embeddings.embeddings[i].name, vectors: embeddings.embeddings[i].count })) };
  }

  let prepared: PreparedControl | undefined;
  try {
    const units = (params.controlNets ?? []).filter((u) => u.enabled !== false);
    if (units.length > 0) {
      prepared = await prepareControl(units, {
        frames: params.frames, width: params.width, height: params.height, vaeScaleFactor: set.models().vaeScaleFactor,
        cacheRoot: req.cacheRoot, providers: set.providers, precision: set.precision, intraOpThreads: req.intraOpThreads,
      });
      for (const message of prepared.notes) emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message });
    }
    if (memory.guidanceCalls === 'separate') {
      emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message: 'Guidance runs as two UNet calls per step (the combined call would not fit this machine): half the memory, a little slower.' });
    }
    if (memory.sampleChunks) {
      emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message: 'Frames go through the UNet a few at a time (all at once would not fit this machine): far less memory, somewhat slower.' });
    }
    const mode = inputMode(params, req.inputFrames);
    const stepTimes: number[] = [];
    const windows = contextWindowCount(params);
    const note = (message: string): void => emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message });
    const fp32Reruns: string[] = [];
    const models = set.precision === 'float16' ? guardFp16(set.models(signal), async () => (await fp32Twin(set, req)).models(signal), note, (stage) => {
      if (!fp32Reruns.includes(stage)) fp32Reruns.push(stage);
    }) : set.models(signal);
    const result = await textToVideo(
      models,
      {
        prompt: params.prompt,
        negativePrompt: params.negativePrompt,
        seed: params.seed,
        steps: params.steps,
        guidance: params.guidance,
        frames: params.frames,
        width: params.width,
        height: params.height,
        clipSkip: params.clipSkip,
        weighting: params.weighting,
        scheduler: params.scheduler,
        ...(params.contextWindows ? { contextWindows: params.contextWindows } : {}),
        ...(params.promptKeyframes?.length ? { promptKeyframes: params.promptKeyframes } : {}),
      },
      {
        tokenizer,
        embeddings,
        signal,
        control: prepared?.control,
        guidanceCalls: memory.guidanceCalls,
        sampleChunks: memory.sampleChunks ? CPU_SAMPLE_CHUNKS : undefined,
        onWarning: (message) => emit({ stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message }),
        mode,
        onStage: (e) => emit({ stage: e.stage, step: e.done, totalSteps: e.total, elapsedMs: e.elapsedMs }),
        onStep: (e) => {
          stepTimes.push(e.elapsedMs);
          const mean = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
          const preview = latentsToPreviewRGB(e.denoised, e.latentShape);
          emit({
            stage: 'denoise',
            step: e.step,
            totalSteps: e.totalSteps,
            elapsedMs: e.elapsedMs,
            etaMs: mean * (e.totalSteps - e.step),
            message: `step ${e.step}/${e.totalSteps} (t=${e.timestep})${windows ? `, ${windows.count} context windows of ${windows.length} frames` : ''}`,
            ...(windows ? { contextWindows: windows } : {}),
            preview: { width: preview.width, height: preview.height, frames: preview.frames.map(rgbaToRgbBase64) },
          });
        },
      },
    );
    checkAborted(signal);

    const tWrite = performance.now();
    emit({ stage: 'write', step: 0, totalSteps: result.frameCount, elapsedMs: 0 });
    const images = framesToRGB8(result.frames, result.frameCount, result.width, result.height);
    const text = pngTextChunks(paramsPayload(params));
    writeFolderAtomically(outDir, signal, (tmp) => {
      images.forEach((rgb, f) => {
        writeFileSync(join(tmp, frameName(f)), encodePng(rgb, result.width, result.height, { text }));
      });
      writeFileSync(join(tmp, 'params.json'), `${JSON.stringify(params, null, 2)}\n`);
    });
    const writeMs = performance.now() - tWrite;
    emit({ stage: 'write', step: result.frameCount, totalSteps: result.frameCount, elapsedMs: writeMs });

    const t = result.timings;
    return {
      outDir,
      frameCount: result.frameCount,
      width: result.width,
      height: result.height,
      fps: params.fps,
      params,
      model: { label: set.source.label, isStarter: set.source.isStarter },
      noise: { ...NOISE_GENERATOR, seed: params.seed },
      engineVersion: ENGINE_VERSION,
      timings: round({ compile: compileMs, encode: t.encodeMs, denoise: t.denoiseMs, unet: t.unetMs, decode: t.decodeMs, write: writeMs, total: performance.now() - t0 }),
      compiled: set.compiled.slice(compiledBefore),
      loraReports: set.loraReports.map((r) => `${basename(r.file)}: ${r.message}`),
      memory: { estimatedHostBytes: memory.estimate.host, estimatedDeviceBytes: memory.estimate.device, peakRssBytes: process.resourceUsage().maxRSS * 1024 },

      ranOn: { provider: set.providers[0], precision: set.quant === 'int8' ? 'int8' : set.precision, fp32Reruns },
    };
  } finally {
    await prepared?.dispose();
    set.onCompile = undefined;
    set.onNote = undefined;
  }
}

/** The generation's embeddings as vocabulary for `tokenizer`, or undefined when it has none. */
function loadEmbeddings(params: GenerationParams, width: number, tok: ClipTokenizer): EmbeddingVocab | undefined {
  const refs = params.embeddings ?? [];
  if (refs.length === 0) return undefined;
  const list = refs.map((e) => readEmbeddingFile(resolve(e.path), { width }));
  return new EmbeddingVocab(list, (t) => tok.encode(t), tok.vocabSize);
}

/** How many context windows each step runs (undefined without windows, or when one window holds the clip). */
function contextWindowCount(params: GenerationParams): { count: number; length: number } | undefined {
  const w = params.contextWindows;
  const plan = w && windowFusionPlan(params.frames, w);
  return plan ? { count: plan.starts.length, length: plan.length } : undefined;
}

export function frameName(index: number): string {
  return `frame_${String(index).padStart(4, '0')}.png`;
}

function round(t: Record<string, number>): StageTimings {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

function rgbaToRgbBase64(rgba: Uint8ClampedArray): string {
  const rgb = Buffer.alloc((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb.toString('base64');
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('CANCELLED', 'Generation cancelled.');
}

/** A folder we may replace: absent, empty, or a previous output (frame PNGs and params.json only). */
function checkDestination(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new StudioError('FILE_UNWRITABLE', `${dir} exists and is not a folder; choose another output.`, { path: dir });
  const foreign = readdirSync(dir).filter((n) => !/^frame_\d+\.png$/.test(n) && n !== 'params.json');
  if (foreign.length > 0) {
    throw new StudioError('FILE_UNWRITABLE', `${dir} already holds other files (${foreign.slice(0, 3).join(', ')}); choose an empty or new folder.`, { path: dir });
  }
}

/**
 * Writes into `.tmp-<pid>-<rand>-<name>` beside `dir` (the store's temporary naming, so its sweep removes
 * leftovers of a crash), then renames it into place. A previous output is moved aside first and removed after.
 */
function writeFolderAtomically(dir: string, signal: AbortSignal | undefined, write: (tmp: string) => void): void {
  const parent = dirname(dir);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new StudioError('FILE_UNWRITABLE', `Cannot create the output folder ${parent}: ${(e as Error).message}`, { path: parent });
  }
  const sibling = (prefix: string): string => join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}-${basename(dir)}`);
  const tmp = sibling('.tmp-');
  try {
    mkdirSync(tmp);
    write(tmp);
    checkAborted(signal);
    checkDestination(dir);
    let old: string | undefined;
    if (existsSync(dir)) {
      old = sibling('.deleting-');
      renameSync(dir, old);
    }
    renameSync(tmp, dir);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof StudioError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new StudioError(code === 'ENOSPC' ? 'DISK_FULL' : 'FILE_UNWRITABLE', `Could not write the frames to ${dir}: ${(e as Error).message}`, { path: dir, code });
  }
}
