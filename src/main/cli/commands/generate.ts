/**
 * `generate --prompt … --out <dir|file.mp4|.webm|.gif>`: one clip from the command line, through the same
 * `generate()` the studio's engine worker runs. No `--model` → the built-in starter test model (random weights,
 * abstract output), compiled into `<data dir>/cache` on first use. The run is recorded in the data folder's
 * history like a studio generation. Progress: a bar on stderr when it is a terminal, plain lines otherwise.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { DEFAULT_LCM_LORA_WEIGHT, DEFAULT_PARAMS, type GenerationParams, type LoraRef, type MotionGroupNormMode, type ProviderName, type StageTimings, type WeightingMode } from '../../../shared/domain/generation';
import type { GenerationHashes, GenerationOutputs } from '../../../shared/domain/history';
import { StudioError, isStudioError } from '../../../shared/errors';
import { hashModelFile } from '../../compiler/io/hash';
import { ENGINE_VERSION, generate, releaseModels, type GenerateProgress, type GenerateResult } from '../../engine/generate';
import { NOISE_GENERATOR } from '../../engine/noise/torch-randn';
import { exportClip } from '../../export/exporter';
import { HistoryService } from '../../services/history-service';
import { flag, parseArgs, type CliCommand, type CliIO, type ParsedArgs } from '../command';
import { dataDirFromArgs } from '../data-dir';
import { openForCli } from '../store-access';

const USAGE =
  'generate --prompt <text> [--negative <text>] [--seed N] [--steps N] [--guidance X] [--frames N] [--width W --height H] [--fps N] ' +
  '[--model <checkpoint>] [--motion <file>] [--lcm-lora <file>[:<weight>]] [--lora <file>:<weight> …] [--provider cpu|cuda|dml|coreml|webgpu] ' +
  '[--clip-skip N] [--weighting a1111|comfy] [--groupnorm per_frame|across_frames] [--original-steps N] ' +
  '--out <dir|file.mp4|file.webm|file.gif> [--json] [--no-history] [--data-dir <dir>]';

const VIDEO_FORMATS = ['mp4', 'webm', 'gif'] as const;
type VideoFormat = (typeof VIDEO_FORMATS)[number];
const PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

function usage(message: string): StudioError {
  return new StudioError('BAD_REQUEST', `${message}\nUsage: npm run cli -- ${USAGE}`);
}

function numberFlag(p: ParsedArgs, name: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw usage(`--${name} must be ${opts.integer ? 'a whole number' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''} (got "${v}").`);
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
  params.frames = numberFlag(p, 'frames', { integer: true, min: 1 }) ?? params.frames;
  params.width = numberFlag(p, 'width', { integer: true, min: 8 }) ?? params.width;
  params.height = numberFlag(p, 'height', { integer: true, min: 8 }) ?? params.height;
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
  const providers = p.flags.get('provider');
  if (providers) {
    const bad = providers.filter((x) => !PROVIDERS.includes(x as ProviderName));
    if (bad.length > 0) throw usage(`--provider must be one of ${PROVIDERS.join(', ')} (got "${bad.join(', ')}").`);
    // The CPU always works: keep it as the last resort after the chosen accelerator.
    params.providers = [...new Set([...(providers as ProviderName[]), 'cpu' as const])];
  }
  return params;
}

function progressPrinter(io: CliIO): { onProgress: (e: GenerateProgress) => void; finish(): void } {
  let barShown = false;
  const clear = (): void => {
    if (barShown) process.stderr.write('\r\x1b[K');
    barShown = false;
  };
  if (!io.isTTY) {
    return {
      onProgress: (e) => {
        if (e.stage === 'compile') {
          if (e.message && !e.compile?.reused) io.stderr(e.message);
        }
        else if (e.stage === 'denoise') io.stderr(`step ${e.step}/${e.totalSteps} ${(e.elapsedMs / 1000).toFixed(2)} s`);
        else if (e.stage === 'decode' && e.step === e.totalSteps) io.stderr(`decoded ${e.totalSteps} frames`);
        else if (e.stage === 'write' && e.step === e.totalSteps) io.stderr(`wrote ${e.totalSteps} frames`);
      },
      finish: () => undefined,
    };
  }
  return {
    onProgress: (e) => {
      if (e.stage === 'compile') {
        // Loading from the cache is routine; compiles and provider fallbacks are worth a line.
        if (e.message && !e.compile?.reused) {
          clear();
          io.stderr(e.message);
        }
        return;
      }
      const width = 30;
      const frac = e.totalSteps > 0 ? e.step / e.totalSteps : 0;
      const filled = Math.round(frac * width);
      const eta = e.etaMs !== undefined && e.etaMs > 0 ? `  ETA ${(e.etaMs / 1000).toFixed(1)} s` : '';
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.stage.padEnd(7)} ${e.step}/${e.totalSteps}${eta}`);
      barShown = true;
    },
    finish: clear,
  };
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Generate a clip from a prompt (no --model: the built-in starter test model, abstract output)',
  usage: USAGE,
  async run(args, io) {
    const p = parseArgs(args, ['json', 'no-history']);
    const params = paramsFromArgs(p);
    const outFlag = flag(p, 'out');
    if (!outFlag) throw usage('Say where the clip goes with --out <folder> (PNG frames + params.json) or --out <file.mp4|.webm|.gif>.');
    const out = resolve(outFlag);
    const ext = extname(out).slice(1).toLowerCase();
    const video = (VIDEO_FORMATS as readonly string[]).includes(ext) ? (ext as VideoFormat) : undefined;
    const dataDir = dataDirFromArgs(p);
    const json = p.bools.has('json');
    if (!params.model) io.stderr('Using the built-in starter test model: random weights, abstract output (pass --model <checkpoint> for real pictures).');

    const history = p.bools.has('no-history') ? undefined : openHistory(dataDir, io);
    const record = history
      ? await history.service.createGeneration(params, { noise: { ...NOISE_GENERATOR }, engineVersion: ENGINE_VERSION, hashes: await fileHashes(params) })
      : undefined;
    if (history && record) await history.service.markRunning(record.id, { engineVersion: ENGINE_VERSION });

    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once('SIGINT', onSigint);
    const printer = progressPrinter(io);
    const started = performance.now();
    let scratch: string | undefined;
    let timings: StageTimings = {};
    try {
      let result: GenerateResult;
      let outputs: GenerationOutputs;
      if (video) {
        scratch = mkdtempSync(join(tmpdir(), 'animatelcm-generate-'));
        result = await generate({ params, outDir: join(scratch, 'frames'), cacheRoot: join(dataDir, 'cache') }, { signal: controller.signal, onProgress: printer.onProgress });
        const tExport = performance.now();
        await exportClip({ kind: 'frames', dir: result.outDir, fps: params.fps, params }, { format: video }, { out, signal: controller.signal });
        timings = { ...result.timings, export: Math.round(performance.now() - tExport) };
        outputs = { framesDir: null, frameCount: result.frameCount, videos: [out], thumbnail: null };
      } else {
        result = await generate({ params, outDir: out, cacheRoot: join(dataDir, 'cache') }, { signal: controller.signal, onProgress: printer.onProgress });
        timings = result.timings;
        outputs = { framesDir: result.outDir, frameCount: result.frameCount, videos: [], thumbnail: null };
      }
      timings.total = Math.round(performance.now() - started);
      printer.finish();
      if (history && record) await history.service.markDone(record.id, outputs, timings);
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
          }),
        );
      } else {
        io.stdout(`${result.frameCount} frames, ${result.width}×${result.height}, seed ${params.seed}, ${(timings.total / 1000).toFixed(1)} s${result.model.isStarter ? ' (starter test model)' : ''} → ${out}`);
      }
      return 0;
    } catch (e) {
      printer.finish();
      if (history && record) {
        const cancelled = controller.signal.aborted || (isStudioError(e) && e.code === 'CANCELLED');
        await (cancelled ? history.service.markCancelled(record.id, timings) : history.service.markFailed(record.id, e, timings)).catch(() => undefined);
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      history?.close();
      await releaseModels();
    }
  },
};

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
