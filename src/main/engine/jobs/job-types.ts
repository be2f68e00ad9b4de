/**
 * The helper jobs the generation queue and the library run in the engine worker besides 'generate' (src/main/engine/generate-job.ts),
 * as data on both sides of the worker boundary. Only types and kind names (no runtime imports), so main can import
 * it without loading the engine.
 */
import type { ControlNetUnit, ControlPreviewClip } from '../../../shared/domain/controlnet';
import type { NoiseGeneratorRef } from '../../../shared/domain/history';

/** Kind names in the worker's JOB_HANDLERS table (src/main/engine/worker-jobs.ts). */
export const GENERATE_JOB = 'generate';
export const HASH_FILES_JOB = 'hash-files';
export const ENGINE_VERSION_JOB = 'engine-version';
export const INSPECT_FILE_JOB = 'inspect-file';
export const HASH_CONTROL_UNITS_JOB = 'hash-control-units';
export const CONTROL_PREVIEW_JOB = 'control-preview';
export const CHECK_CONTROL_UNITS_JOB = 'check-control-units';

/** 'inspect-file': one file for a library import → InspectedFile (inspect-file.ts). */
export interface InspectFileJobParams {
  path: string;
}

export interface HashFilesJobParams {
  paths: string[];
}

export interface FileHash {
  path: string;
  /** Lowercase hex SHA-256 of the whole file. */
  sha256: string;
  /** What the file looked like when hashed: the cache key on main's side. */
  size: number;
  mtimeMs: number;
}

export interface HashFilesJobResult {
  files: FileHash[];
}

export interface EngineVersionJobResult {
  engineVersion: string;
  noise: NoiseGeneratorRef;
}

/** 'hash-control-units': a generation's ControlNet units → the same units with modelSha256 / controlSha256. */
export interface HashControlUnitsJobParams {
  units: ControlNetUnit[];
}

export interface HashControlUnitsJobResult {
  units: ControlNetUnit[];
}

/** 'control-preview': one unit's control maps for a clip → a few PNGs in outDir (ControlPreview). */
export interface ControlPreviewJobParams {
  unit: ControlNetUnit;
  /** The unit's place on Generate, for messages ("ControlNet unit 2: …"). */
  index: number;
  clip: ControlPreviewClip;
  outDir: string;
}

/** 'check-control-units': refuse a generation whose enabled units have a wrong file or unusable input (check-units.ts). */
export interface CheckControlUnitsJobParams {
  units: ControlNetUnit[];
  cacheRoot: string;
  clip: ControlPreviewClip;
}
