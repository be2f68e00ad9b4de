/**
 * Errors cross every boundary (worker → main → IPC/WebSocket → renderer, CLI → JSON) as plain data:
 * `{ code, message, details }`. `message` is written for a creator and says what to do; `details` carries
 * what an engineer needs (paths, offsets, keys). Codes are stable identifiers other tools may rely on.
 */
export type ErrorCode =
  // files and formats
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_EMPTY'
  | 'FILE_TRUNCATED'
  | 'FORMAT_UNKNOWN'
  | 'FORMAT_MISMATCH'
  | 'SAFETENSORS_INVALID'
  | 'PICKLE_INVALID'
  | 'PICKLE_UNSAFE'
  | 'CKPT_LEGACY'
  | 'LIMIT_EXCEEDED'
  // models
  | 'MODEL_FAMILY_UNSUPPORTED'
  | 'MODEL_FAMILY_UNKNOWN'
  | 'MODEL_KEYS_MISSING'
  | 'MODEL_SHAPE_MISMATCH'
  | 'LORA_INCOMPATIBLE'
  // compile and run
  | 'COMPILE_FAILED'
  | 'CACHE_CORRUPT'
  | 'PROVIDER_UNAVAILABLE'
  | 'INFERENCE_FAILED'
  /** A generation's estimated peak memory exceeds what this machine can give it (refused before it starts). */
  | 'MEMORY_INSUFFICIENT'
  | 'INVALID_PARAMS'
  | 'CANCELLED'
  /** The engine worker died mid-job (native crash, out of memory); it restarts for the next job. */
  | 'ENGINE_CRASHED'
  /** The GPU was lost mid-job (driver reset, unplugged, hung); the engine restarts for the next job. */
  | 'DEVICE_LOST'
  /** The GPU ran out of memory for this job's size. */
  | 'DEVICE_OUT_OF_MEMORY'
  // store and export
  | 'DB_CORRUPT'
  | 'DB_TOO_NEW'
  | 'DB_READONLY'
  | 'DISK_FULL'
  | 'NOT_FOUND'
  | 'FFMPEG_NOT_FOUND'
  | 'FFMPEG_FAILED'
  | 'EXPORT_INVALID'
  /** An export's destination exists and may not be replaced (a folder, files in it, a file without overwrite). */
  | 'EXPORT_TARGET_EXISTS'
  | 'FILE_UNWRITABLE'
  // downloads
  /** The server answered with an error, stalled past the idle limit, or the connection broke (resumable). */
  | 'DOWNLOAD_FAILED'
  /** The downloaded bytes do not have the published SHA-256 (the partial file is removed). */
  | 'HASH_MISMATCH'
  // transport
  | 'UNAUTHORIZED'
  | 'BAD_REQUEST'
  | 'INTERNAL';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class StudioError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StudioError';
    this.code = code;
    this.details = details;
  }

  toJSON(): SerializedError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isStudioError(e: unknown): e is StudioError {
  return e instanceof StudioError;
}

/** Any thrown value → the wire form. Unknown errors keep their message but are marked INTERNAL. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof StudioError) return e.toJSON();
  if (isSerializedError(e)) return e;
  if (e instanceof Error) {
    if (e.name === 'AbortError') return { code: 'CANCELLED', message: 'Cancelled.' };
    const errno = (e as { code?: unknown }).code;
    if (errno === 'ENOSPC') return { code: 'DISK_FULL', message: 'The disk is full. Free some space and try again.', details: { cause: e.message } };
    if (errno === 'ENOENT') return { code: 'FILE_NOT_FOUND', message: e.message };
    if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS')
      return { code: 'FILE_UNREADABLE', message: `Permission denied: ${e.message}` };
    return { code: 'INTERNAL', message: e.message, details: { name: e.name } };
  }
  return { code: 'INTERNAL', message: String(e) };
}

export function deserializeError(s: SerializedError): StudioError {
  return new StudioError(s.code, s.message, s.details);
}

export function isSerializedError(v: unknown): v is SerializedError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { code?: unknown }).code === 'string' &&
    typeof (v as { message?: unknown }).message === 'string' &&
    !(v instanceof Error)
  );
}
