/**
 * The generation history as the renderer, CLI and services see it. A record holds everything needed to make the
 * same clip again (parameters, noise generator, file hashes, engine version) plus what happened (status, timings,
 * error, outputs). Plain JSON; the store owns the SQLite rows these come from.
 */
import type { SerializedError } from '../errors';
import type { GenerationParams, JobStatus, ProviderName, StageTimings } from './generation';

/** Which initial-noise generator made the latents (engine/noise NOISE_GENERATOR); a seed means nothing without it. */
export interface NoiseGeneratorRef {
  name: string;
  version: string;
}

/** SHA-256 (lowercase hex) of every weight file the run used; null where unknown (e.g. built-in starter model). */
export interface GenerationHashes {
  model: string | null;
  motion: string | null;
  lcmLora: string | null;
  /** Same order as params.loras. */
  loras: (string | null)[];
}

/** How a record came to be: a fresh request, or derived from another record (`parentId`). */
export type GenerationOrigin = 'new' | 'reroll' | 'rerun';

/** What the generation code passes along with the parameters when it queues a job. */
export interface GenerationMeta {
  noise: NoiseGeneratorRef;
  engineVersion: string;
  hashes?: Partial<GenerationHashes>;
  parentId?: number | null;
  origin?: GenerationOrigin;
}

/**
 * Files a finished generation produced. Paths are absolute; the generation code writes them under
 * HistoryService.outputDirFor(id) through a temporary name (store/atomic-files) so they are complete when recorded.
 */
export interface GenerationOutputs {
  /** Folder holding the decoded frames as PNGs in name order; null if frames were not kept. */
  framesDir: string | null;
  frameCount: number;
  /** Encoded clips (mp4/webm/gif) made right after generation. */
  videos: string[];
  /** A small still or animated preview for lists and library cards. */
  thumbnail: string | null;
}

/** Where a finished generation really ran: what the engine chose (provider fallbacks, precision by device). */
export interface RanOn {
  provider: ProviderName;
  /** `int8`: fp32 graphs whose UNet Linear and conv layers ran as int8 products (the labelled CPU option). */
  precision: 'float32' | 'float16' | 'int8';
  /** Stages the fp16 overflow guard re-ran in fp32 ("VAE decoder", …); empty when none did or the run was fp32. */
  fp32Reruns: string[];
}

export interface GenerationRecord {
  id: number;
  status: JobStatus;
  params: GenerationParams;
  noise: NoiseGeneratorRef;
  hashes: GenerationHashes;
  engineVersion: string;
  origin: GenerationOrigin;
  parentId: number | null;
  favourite: boolean;
  timings: StageTimings;
  error: SerializedError | null;
  outputs: GenerationOutputs | null;
  /** Provider and precision of a finished run; null before it finished or when recorded before this was kept. */
  ranOn: RanOn | null;
  /** ISO-8601 UTC timestamps. */
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface GenerationFilter {
  /** Words that must all appear in the prompt (each as a prefix: "fox" finds "foxes"; case- and accent-insensitive). */
  text?: string;
  /** Checkpoint SHA-256 (full or a prefix of ≥ 6 hex chars, so AutoV2 works) or its path. */
  model?: string;
  /** LoRA SHA-256 (full or prefix ≥ 6) or path: records whose stack contains it. */
  lora?: string;
  /** ISO-8601 instants, inclusive. */
  from?: string;
  to?: string;
  favourite?: boolean;
  status?: JobStatus | JobStatus[];
  /** Default 50, at most 500. */
  limit?: number;
  offset?: number;
  /** Default 'newest'. */
  order?: 'newest' | 'oldest';
}

export interface GenerationPage {
  items: GenerationRecord[];
  /** Matches in total, for paging. */
  total: number;
  limit: number;
  offset: number;
}

export interface DeleteGenerationResult {
  id: number;
  /** Output files and folders removed. */
  removedFiles: string[];
  /** Recorded outputs outside the studio's data folder: never deleted by the studio, listed so the UI can say so. */
  keptFiles: string[];
  /** Timeline clips that referred to the record and were removed with it. */
  removedClips: number;
}
