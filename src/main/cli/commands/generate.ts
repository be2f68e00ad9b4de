/**
 * `generate --prompt … --out <dir|file.mp4|.webm|.gif>`: one clip from the command line, through the same
 * `generate` job the studio runs, in an engine worker process (as web mode does). No `--model` → the built-in
 * starter test model (random weights, abstract output), compiled into `<data dir>/cache` on first use. The run is
 * recorded in the data folder's history like a studio generation. Progress: a bar on stderr when it is a
 * terminal, plain lines otherwise.
 *
 * Why a worker and not this process: onnxruntime reads the process's command line when it starts and crashes
 * (SIGSEGV, stack overflow) once that passes ~29,000 bytes — and here the command line holds the prompt. The
 * worker's command line is short whatever the prompt; a native crash there also becomes an error message.
 *
 * Files: a video's frames are kept as the record's output folder (`<data>/outputs/<id>/`), so the clip can be cut
 * on a timeline and re-exported; without a record they go to a scratch folder in `<data>/scratch`. Temporaries
 * beside `--out` are recorded in the data folder (store/temp-places.ts), so a run killed half-way is cleaned up
 * at the next start.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { DEFAULT_LCM_LORA_WEIGHT, DEFAULT_MOTION_SCALE, DEFAULT_PARAMS, DEFAULT_V2V_STRENGTH, GENERATION_LIMITS, I2V_SCHEDULER, type GenerationParams, type LoraRef, type MotionGroupNormMode, type PrecisionChoice, type ProviderName, type StageTimings, type WeightingMode } from '../../../shared/domain/generation';
import type { GenerationHashes, GenerationOutputs, GenerationRecord } from '../../../shared/domain/history';
import { StudioError, isStudioError } from '../../../shared/errors';
import { hashModelFile } from '../../compiler/io/hash';
import type { GenerateJobParams, GenerateJobProgress, GenerateJobResult } from '../../engine/generate-job';
import { ENGINE_VERSION_JOB, GENERATE_JOB, type EngineVersionJobResult } from '../../engine/jobs/job-types';
import { checkDestination } from '../../export/destination';
import { exportClip } from '../../export/exporter';
import { EngineHost } from '../../services/engine-host';
import { decodeInput, storeInput } from '../../services/generation-input';
import { HistoryService } from '../../services/history-service';
import { createTemporaryDir, discardTemporary, sweepTemporaries } from '../../store/atomic-files';
import { dataLayout } from '../../store/layout';
import { sweepLeftovers } from '../../store/recovery';
import { recordTempPlace } from '../../store/temp-places';
import { checkWeightPaths } from '../../services/weight-paths';
import { flag, parseArgs, type CliCommand, type CliIO, type ParsedArgs } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { sweepLegacyScratch } from '../legacy-scratch';
import { progressPrinter } from '../progress-printer';
import { openForCli } from '../store-access';
import { controlUnitsFromArgs } from '../controlnet-args';
import { checkControlNetUnits } from '../../engine/control/check-units';
import { LONG_CLIP_USAGE, contextWindowsFromArgs, promptKeyframesFromArgs } from './long-clip-flags';
import { hashControlUnits } from '../../engine/control/unit-hashes';

const USAGE =
  'generate --prompt <text> [--negative <text>] [--seed N] [--steps N] [--guidance X] [--frames N] [--width W --height H] [--fps N] ' +
  '[--model <checkpoint>] [--motion <file>] [--lcm-lora <file>[:<weight>]] [--lora <file>:<weight> …] [--embedding <file> …] [--vae <file>] [--provider cpu|cuda|dml|coreml|webgpu] [--precision auto|fp16|fp32|int8] ' +
  '[--clip-skip N] [--weighting a1111|comfy] [--groupnorm per_frame|across_frames] [--original-steps N] ' +
  '[--controlnet <model-file> --control <image|video|frames-dir> [--control-scale X] [--control-start A] [--control-end B] [--preprocess canny|none] …] ' +
  `${LONG_CLIP_USAGE} ` +
  '[--image <file> [--motion-scale X] [--no-color-match] | --video <file|frames-folder> [--strength X]] ' +
  '--out <dir|file.mp4|file.webm|file.gif> [--json] [--no-history] [--data-dir <dir>]';

const VIDEO_FORMATS = ['mp4', 'webm', 'gif'] as const;
type VideoFormat = (typeof VIDEO_FORMATS)[number];
const PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];
const PRECISIONS: readonly PrecisionChoice[] = ['auto', 'fp16', 'fp32', 'int8'];

function usage(message: string): StudioError {
  return new StudioError('BAD_REQUEST', `${message}\nUsage: npm run cli -- ${USAGE}`);
}

function numberFlag(p: ParsedArgs, name: string, opts: { integer?: boolean; min?: number; max?: number; multiple?: number; unit?: string } = {}): number | undefined {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  const { min, max, multiple } = opts;
  const outside = (min !== undefined && n < min) || (max !== undefined && n > max) || (multiple !== undefined && n % multiple !== 0);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || outside) {
    const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` ≥ ${min}` : '';
    const extra = [opts.unit, multiple !== undefined ? `multiples of ${multiple}` : undefined].filter(Boolean).join(', ');
    throw usage(`--${name} must be ${opts.integer ? 'a whole number' : 'a number'}${range}${extra ? ` (${extra})` : ''}; got "${v}".`);
  }
  return n;
}

/** `file[:weight]`; the weight is taken only when what follows the last colon is a number (Windows drive letters). */
export function parseWeighted(v: string, name: string, defaultWeight: number | undefined): { path: string; weight: number } {
  const m = /^(.*):([+-]?(?:\d+\.?\d*|\.\d+))$/.exec(v);
  if (m && m[1].length > 1) return { path: resolve(m[1]), weight: Number(m[2]) };
  if (defaultWeight === undefined) throw usage(`--${name} needs <file>:<weight> (got "${v}").`);
  return { path: resolve(v), weight: defaultWeight };
}

export function paramsFromArgs(p: ParsedArgs, randomSeed: () => number = () => randomInt(0, 2 ** 32)): GenerationParams {
  const prompt = flag(p, 'prompt') ?? p.positionals.join(' ');
  if (!prompt) throw usage('Say what to make with --prompt "…".');
  const params: GenerationParams = { ...DEFAULT_PARAMS, scheduler: { ...DEFAULT_PARAMS.scheduler }, prompt, negativePrompt: flag(p, 'negative') ?? '', loras: [] };
  params.seed = numberFlag(p, 'seed', { integer: true, min: 0 }) ?? randomSeed();
  params.steps = numberFlag(p, 'steps', { integer: true, min: 1 }) ?? params.steps;
  params.guidance = numberFlag(p, 'guidance', { min: 0 }) ?? params.guidance;
  const { side, frames } = GENERATION_LIMITS;
  params.frames = numberFlag(p, 'frames', { integer: true, ...frames }) ?? params.frames;
  params.width = numberFlag(p, 'width', { integer: true, ...side, unit: 'pixels' }) ?? params.width;
  params.height = numberFlag(p, 'height', { integer: true, ...side, unit: 'pixels' }) ?? params.height;
  params.fps = numberFlag(p, 'fps', { min: 0.1 }) ?? params.fps;
  params.clipSkip = numberFlag(p, 'clip-skip', { integer: true, min: 1 }) ?? params.clipSkip;
  const orig = numberFlag(p, 'original-steps', { integer: true, min: 1 });
  if (orig !== undefined) params.scheduler.original_inference_steps = orig;
  const weighting = flag(p, 'weighting');
  if (weighting !== undefined) {
    if (weighting !== 'a1111' && weighting !== 'comfy') throw usage(`--weighting must be a1111 or comfy (got "${weighting}").`);
    params.weighting = weighting as WeightingMode;
  }
  const gn = flag(p, 'groupnorm');
  if (gn !== undefined) {
    if (gn !== 'per_frame' && gn !== 'across_frames') throw usage(`--groupnorm must be per_frame or across_frames (got "${gn}").`);
    params.motionGroupNorm = gn as MotionGroupNormMode;
  }
  const model = flag(p, 'model');
  if (model) params.model = resolve(model);
  const motion = flag(p, 'motion');
  if (motion) params.motion = resolve(motion);
  const lcm = flag(p, 'lcm-lora');
  if (lcm) params.lcmLora = parseWeighted(lcm, 'lcm-lora', DEFAULT_LCM_LORA_WEIGHT);
  params.loras = (p.flags.get('lora') ?? []).map((v): LoraRef => parseWeighted(v, 'lora', undefined));
  // Textual-inversion embeddings, called in the prompts by file name (A1111); a standalone VAE file.
  const embeddings = p.flags.get('embedding') ?? [];
  if (embeddings.length > 0) params.embeddings = embeddings.map((e) => ({ path: resolve(e) }));
  const vae = flag(p, 'vae');
  if (vae) params.vae = resolve(vae);
  inputFromArgs(p, params);
  const providers = p.flags.get('provider');
  if (providers) {
    const bad = providers.filter((x) => !PROVIDERS.includes(x as ProviderName));
    if (bad.length > 0) throw usage(`--provider must be one of ${PROVIDERS.join(', ')} (got "${bad.join(', ')}").`);
    // The CPU always works: keep it as the last resort after the chosen accelerator.
    params.providers = [...new Set([...(providers as ProviderName[]), 'cpu' as const])];
  }
  const precision = flag(p, 'precision');
  if (precision !== undefined) {
    if (!PRECISIONS.includes(precision as PrecisionChoice)) throw usage(`--precision must be one of ${PRECISIONS.join(', ')} (got "${precision}"); int8 is the faster, approximate CPU option.`);
    params.precision = precision as PrecisionChoice;
  }
  const contextWindows = contextWindowsFromArgs(p, usage);
  if (contextWindows) params.contextWindows = contextWindows;
  const promptKeyframes = promptKeyframesFromArgs(p, usage);
  if (promptKeyframes) params.promptKeyframes = promptKeyframes;
  return params;
}

/**
 * `--image` (AnimateLCM-I2V: its scheduler config, guidance 1 and 4 steps unless given) or `--video`
 * (video-to-video at `--strength`). The path is resolved here; the run stores and decodes it.
 */
function inputFromArgs(p: ParsedArgs, params: GenerationParams): void {
  const image = flag(p, 'image');
  const video = flag(p, 'video');
  const motionScale = numberFlag(p, 'motion-scale', { min: 0 });
  const strength = numberFlag(p, 'strength', { min: 0 });
  if (image && video) throw usage('Give either --image or --video, not both.');
  if (!image && (motionScale !== undefined || p.bools.has('no-color-match'))) throw usage('--motion-scale and --no-color-match go with --image.');
  if (!video && strength !== undefined) throw usage('--strength goes with --video.');
  if (image) {
    if (motionScale !== undefined && motionScale > 1.5) throw usage(`--motion-scale must be between 0 and 1.5 (got ${motionScale}).`);
    params.input = { kind: 'image', path: resolve(image), motionScale: motionScale ?? DEFAULT_MOTION_SCALE, colorMatch: !p.bools.has('no-color-match') };
    const orig = params.scheduler.original_inference_steps;
    params.scheduler = { ...I2V_SCHEDULER, ...(flag(p, 'original-steps') !== undefined ? { original_inference_steps: orig } : {}) };
    if (flag(p, 'guidance') === undefined) params.guidance = 1;
    if (flag(p, 'steps') === undefined) params.steps = 4;
  }
  if (video) {
    const s = strength ?? DEFAULT_V2V_STRENGTH;
    if (!(s > 0 && s <= 1)) throw usage(`--strength must be greater than 0 and at most 1 (got ${s}).`);
    params.input = { kind: 'video', path: resolve(video), strength: s };
  }
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Generate a clip from a prompt (no --model: the built-in starter test model, abstract output)',
  usage: USAGE,
  async run(args, io) {
    const p = parseArgs(args, ['json', 'no-history', 'no-color-match']);
    const params = paramsFromArgs(p);
    const controlNets = controlUnitsFromArgs(args, usage);
    const outFlag = flag(p, 'out');
    if (!outFlag) throw usage('Say where the clip goes with --out <folder> (PNG frames + params.json) or --out <file.mp4|.webm|.gif>.');
    const out = resolve(outFlag);
    const ext = extname(out).slice(1).toLowerCase();
    const video = (VIDEO_FORMATS as readonly string[]).includes(ext) ? (ext as VideoFormat) : undefined;
    // Before minutes of generating: an existing file at --out is never replaced (the export would refuse it).
    if (video) await checkDestination(out, video, false);
    const dataDir = dataDirFromArgs(p);
    const json = p.bools.has('json');
    // Before the history record: a path that is not a model is refused here, never recorded.
    checkWeightPaths(params);
    if (controlNets.length > 0) {
      // Refused here, before the history record, when a file is not a ControlNet or an input cannot be read.
      await checkControlNetUnits(controlNets, join(dataDir, 'cache'), params);
      params.controlNets = await hashControlUnits(controlNets);
    }
    if (!params.model) io.stderr('Using the built-in starter test model: random weights, abstract output (pass --model <checkpoint> for real pictures).');

    // The input goes into the data folder under its hash before anything is recorded, so the record re-runs it.
    if (params.input) params.input = storeInput(params.input, dataDir);
    // Opening the history sweeps what killed runs left (openDatabase); without it, sweep here.
    const history = p.bools.has('no-history') ? undefined : openHistory(dataDir, io);
    // Embedding files are identified in the history by their hash, like LoRAs (params.embeddings[].sha256).
    if (history && params.embeddings) {
      params.embeddings = await Promise.all(params.embeddings.map(async (e) => ({ ...e, sha256: (await hashModelFile(e.path).catch(() => undefined))?.sha256.toLowerCase() })));
    }
    if (!history) sweepLeftovers(dataDir);
    sweepLegacyScratch();
    const releasePlace = recordTempPlace(dataDir, dirname(out));
    const engine = new EngineHost();
    const jobId = `cli-generate-${randomUUID()}`;
    const controller = new AbortController();
    const onSigint = (): void => {
      controller.abort();
      engine.cancelJob(jobId);
    };
    process.once('SIGINT', onSigint);
    const printer = progressPrinter(io);
    const started = performance.now();
    let record: GenerationRecord | undefined;
    let scratch: string | undefined;
    let inputScratch: string | undefined;
    let timings: StageTimings = {};
    try {
      // Refuse what cannot fit this machine before the run is recorded: the worker knows which provider will run
      // (engine/memory/guard.ts).
      await engine.request('memoryCheck', params);
      const { engineVersion, noise } = await engine.runJob<EngineVersionJobResult>(ENGINE_VERSION_JOB, `${jobId}:version`, {}).result;
      if (history) {
        record = await history.service.createGeneration(params, { noise, engineVersion, hashes: await fileHashes(params) });
        await history.service.markRunning(record.id, { engineVersion });
      }
      let framesDir = out;
      if (video && record) framesDir = history!.service.outputDirFor(record.id);
      else if (video) {
        scratch = await createTemporaryDir(join(dataLayout(dataDir).scratch, 'generate'));
        framesDir = join(scratch, 'frames');
      }
      // An image/video input is decoded here (ffmpeg is the main process's decoder) into PNGs the worker reads.
      let inputFrames: string[] | undefined;
      if (params.input) {
        inputScratch = await createTemporaryDir(join(dataLayout(dataDir).scratch, 'input'));
        inputFrames = await decodeInput(params, join(inputScratch, 'decoded'), controller.signal);
      }
      const job: GenerateJobParams = { params, outDir: framesDir, cacheRoot: join(dataDir, 'cache'), inputFrames };
      // Ctrl-C while the worker was starting had no job to cancel yet.
      if (controller.signal.aborted) throw cancelledError();
      const result = await engine.runJob<GenerateJobResult, GenerateJobProgress>(GENERATE_JOB, jobId, job, printer.onProgress).result;
      if (controller.signal.aborted) throw cancelledError();
      timings = result.timings;
      let outputs: GenerationOutputs = { framesDir: result.outDir, frameCount: result.frameCount, videos: [], thumbnail: null };
      if (video) {
        const tExport = performance.now();
        await exportClip({ kind: 'frames', dir: result.outDir, fps: params.fps, params }, { format: video }, { out, signal: controller.signal });
        timings = { ...timings, export: Math.round(performance.now() - tExport) };
        // The frames stay with the record (timelines and re-exports read them); scratch frames do not.
        outputs = { ...outputs, framesDir: record ? result.outDir : null, videos: [out] };
      }
      timings.total = Math.round(performance.now() - started);
      printer.finish();
      if (history && record) await history.service.markDone(record.id, outputs, timings, result.ranOn);
      for (const r of result.loraReports) io.stderr(`LoRA ${r}`);
      if (json) {
        io.stdout(
          JSON.stringify({
            out,
            historyId: record?.id ?? null,
            params,
            model: result.model,
            noise: result.noise,
            engineVersion: result.engineVersion,
            frames: result.frameCount,
            width: result.width,
            height: result.height,
            fps: result.fps,
            timings,
            compiled: result.compiled,
            loraReports: result.loraReports,
            ranOn: result.ranOn,
          }),
        );
      } else {
        io.stdout(`${result.frameCount} frames, ${result.width}×${result.height}, seed ${params.seed}, ${(timings.total / 1000).toFixed(1)} s${result.model.isStarter ? ' (starter test model)' : ''} → ${out}`);
      }
      return 0;
    } catch (e) {
      printer.finish();
      // Ctrl-C reaches the worker too (same process group); whatever it then reports, the run was cancelled.
      const cancelled = controller.signal.aborted || (isStudioError(e) && e.code === 'CANCELLED');
      if (history && record) {
        await (cancelled ? history.service.markCancelled(record.id, timings) : history.service.markFailed(record.id, e, timings)).catch(() => undefined);
        // A record that did not finish keeps no output folder (as in the studio's queue).
        if (video) await rm(history.service.outputDirFor(record.id), { recursive: true, force: true }).catch(() => undefined);
      }
      throw cancelled ? cancelledError() : e;
    } finally {
      process.off('SIGINT', onSigint);
      if (scratch) await discardTemporary(scratch);
      await engine.dispose();
      // A worker killed mid-write (out of memory, say) leaves its temporary beside --out: it is dead now, so it goes.
      sweepTemporaries(dirname(out));
      releasePlace();
      if (inputScratch) await discardTemporary(inputScratch);
      history?.close();
    }
  },
};

function cancelledError(): StudioError {
  return new StudioError('CANCELLED', 'Generation cancelled.');
}

/** SHA-256 of every weight file the run uses (null for the built-in starter model), for the history record. */
async function fileHashes(params: GenerationParams): Promise<Partial<GenerationHashes>> {
  // A file that cannot be read is left to generate(), which says what is wrong with it.
  const hash = async (path: string | undefined): Promise<string | null> => (path ? (await hashModelFile(path).catch(() => undefined))?.sha256.toLowerCase() ?? null : null);
  return {
    model: await hash(params.model),
    motion: await hash(params.motion),
    lcmLora: await hash(params.lcmLora?.path),
    loras: await Promise.all(params.loras.map((l) => hash(l.path))),
  };
}

function openHistory(dataDir: string, io: CliIO): { service: HistoryService; close(): void } | undefined {
  try {
    const db = openForCli(dataDir, io, { write: true });
    return { service: new HistoryService(db), close: () => db.close() };
  } catch (e) {
    io.stderr(`Note: this run is not recorded in the history (${e instanceof Error ? e.message : String(e)}).`);
    return undefined;
  }
}
