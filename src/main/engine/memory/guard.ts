import type { GenerationParams } from '../../../shared/domain/generation';
import { StudioError } from '../../../shared/errors';
import { fileSource, type ModelSource } from '../models/model-source';
import { estimateGeneration, type GenerationEstimate, type GenerationSize, type GuidanceCalls, type MemoryTarget } from './estimate';
import { machineMemory, type MachineMemory } from './machine';

/**
 * The job guard: before a generation compiles or opens anything, its estimated peak is compared with what this
 * machine can give it (host memory; device memory too on a GPU whose size is known). A job that cannot fit is
 * refused with a sentence that names the need, the machine, and a size and a frame count that do fit — rather
 * than growing the worker until the OS kills it.
 */
export interface MemoryCheck {
  estimate: GenerationEstimate;
  machine: MachineMemory;
  /**
   * How the pipeline runs guidance: 'separate' (two batch-1 UNet calls per step) when the batched call would not
   * fit but the separate ones do — slower per step, but it runs instead of being refused.
   */
  guidanceCalls: GuidanceCalls;
  /** The UNet under the CPU sample-chunk plan (sample-chunks.ts): when no plain way fits. */
  sampleChunks: boolean;
}

/**
 * Throws MEMORY_INSUFFICIENT when `size` cannot fit even with the guidance halves as separate UNet calls; returns
 * the estimate (of the way it will run) otherwise.
 */
export function checkMemoryFits(source: ModelSource, size: GenerationSize, target: MemoryTarget, machine: MachineMemory): MemoryCheck {
  const fitsAs = (s: GenerationSize): boolean => {
    const e = estimateGeneration(source, s, target);
    return e.host <= machine.hostUsable && (machine.deviceUsable === undefined || e.device <= machine.deviceUsable);
  };
  // The ways to run it: one batched call; the guidance halves as two calls (≈ 7 % slower, half the activations);
  // then, on the CPU, the same two under the sample-chunk plan (a fraction of the activations; no cost measured on a
  // quiet machine at 32×32, 1.22× under load, not yet at 64×64: bench/README.md "memory-plan", "chunk-cost"), so
  // chunks stay the fallback until the 64×64 figure is in.
  const ways = (s: GenerationSize): GenerationSize[] => {
    const plain: GenerationSize[] = [{ ...s, guidanceCalls: s.guidanceCalls ?? 'batched', sampleChunks: false }];
    if (s.guidance > 1 && plain[0].guidanceCalls !== 'separate') plain.push({ ...s, guidanceCalls: 'separate', sampleChunks: false });
    return target.gpu ? plain : [...plain, ...plain.map((p) => ({ ...p, sampleChunks: true }))];
  };
  const fits = (s: GenerationSize): boolean => ways(s).some(fitsAs);
  const all = ways(size);
  const way = all.find(fitsAs);
  if (way) return { estimate: estimateGeneration(source, way, target), machine, guidanceCalls: way.guidanceCalls ?? 'batched', sampleChunks: way.sampleChunks === true };
  // Refused: the need named is the smallest way it could run (the last one).
  const estimate = estimateGeneration(source, all[all.length - 1], target);

  const onDevice = machine.deviceUsable !== undefined && estimate.device > machine.deviceUsable;
  const need = onDevice ? estimate.device : estimate.host;
  const total = onDevice ? machine.deviceTotal! : machine.hostTotal;
  const usable = onDevice ? machine.deviceUsable! : machine.hostUsable;
  const where = onDevice ? 'this GPU has' : 'this machine has';
  const smaller = largestFittingSize(size, fits);
  const frames = largestFittingFrames(size, fits);
  const tries: string[] = [];
  if (smaller) tries.push(`${smaller.width}×${smaller.height}`);
  if (frames > 0) tries.push(`at most ${frames} frame${frames === 1 ? '' : 's'} at ${size.width}×${size.height}`);
  const advice = tries.length > 0 ? ` — try ${tries.join(', or ')}` : ' — this model does not fit this machine at any size';
  throw new StudioError(
    'MEMORY_INSUFFICIENT',
    `A ${size.width}×${size.height} clip of ${size.frames} frame${size.frames === 1 ? '' : 's'} needs about ${gb(need)} of ${onDevice ? 'GPU ' : ''}memory; ` +
      `${where} ${gb(total)} (about ${gb(usable)} usable for a generation)${advice}.`,
    { estimate: { host: estimate.host, device: estimate.device, parts: estimate.parts }, machine: { ...machine }, size: { ...size } },
  );
}

/**
 * The largest size with the request's aspect ratio and frame count that fits, if any: the longer side in steps of
 * 64 pixels, the shorter one following the ratio (a multiple of 8, as every side must be).
 */
function largestFittingSize(size: GenerationSize, fits: (s: GenerationSize) => boolean): GenerationSize | undefined {
  const wide = size.width >= size.height;
  const longest = wide ? size.width : size.height;
  const ratio = (wide ? size.height : size.width) / longest;
  for (let side = Math.floor((longest - 1) / 64) * 64; side >= 64; side -= 64) {
    const other = Math.max(64, Math.round((side * ratio) / 8) * 8);
    const s = wide ? { ...size, width: side, height: other } : { ...size, width: other, height: side };
    if (fits(s)) return s;
  }
  return undefined;
}

/** The most frames below the request's that fit at its size (0 when none does). */
function largestFittingFrames(size: GenerationSize, fits: (s: GenerationSize) => boolean): number {
  let lo = 0;
  let hi = size.frames - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits({ ...size, frames: mid })) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Bytes as a creator reads them: "41 GB", "1.8 GB". */
export function gb(bytes: number): string {
  const v = bytes / 1e9;
  return `${v >= 10 ? Math.round(v) : v.toFixed(1)} GB`;
}

/** The estimate's figures as plain data (worker responses, results). */
export interface MemoryFigures {
  hostBytes: number;
  deviceBytes: number;
  hostUsableBytes: number;
  deviceUsableBytes?: number;
}

/**
 * The guard for a job that has not started yet (the services' queue, the CLI before it records a run): reads only
 * the model's headers, plans with the preferred provider's precision (a fallback to the CPU is checked again when
 * the job runs), and throws MEMORY_INSUFFICIENT or returns the figures. Nothing stays open. A model that cannot be
 * opened is the job's to report (it names the file and is recorded in the history): undefined then.
 */
export function checkParamsMemory(params: GenerationParams): MemoryFigures | undefined {
  let source: ModelSource;
  try {
    source = fileSource({ model: params.model, motion: params.motion });
  } catch {
    return undefined;
  }
  try {
    const gpu = params.providers.length > 0 && params.providers[0] !== 'cpu';
    const machine = machineMemory(params.providers);
    const { estimate } = checkMemoryFits(source, params, { precision: gpu ? 'float16' : 'float32', gpu }, machine);
    return { hostBytes: estimate.host, deviceBytes: estimate.device, hostUsableBytes: machine.hostUsable, deviceUsableBytes: machine.deviceUsable };
  } finally {
    source.close();
  }
}
