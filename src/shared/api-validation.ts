/**
 * Runtime validation of every StudioApi request, applied in main before a service sees the arguments. The
 * renderer is treated as untrusted (a compromised page, or any local process in web mode that got the token), so
 * this checks shape, types and sane bounds; the services still check meaning (does the file exist, is the model
 * supported). Hand-written combinators rather than a schema library: the contract is small and a dependency in
 * src/shared would run in every process.
 */
import { StudioError } from './errors';
import { API_METHODS, type ApiArgs, type ApiMethod } from './api';
import { GENERATION_LIMITS, type GenerationInput, type GenerationParams } from './domain/generation';
import { CLIP_SPEED_MAX, CLIP_SPEED_MIN, CROSSFADE_MAX } from './domain/timeline';

/** Returns the value typed, or throws StudioError('BAD_REQUEST') naming the path that failed. */
export type Validator<T> = (value: unknown, path: string) => T;

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new StudioError('BAD_REQUEST', `${fieldLabel(path)} must be ${expected}, not ${shown(value)}.`, { path, expected, got });
}

/** Creator-facing names of the fields a form sends; anything else is named by its last path segment. */
const FIELD_LABELS: Record<string, string> = {
  prompt: 'The prompt',
  negativePrompt: 'The negative prompt',
  seed: 'The seed',
  steps: 'Steps',
  guidance: 'Guidance',
  frames: 'Frames',
  width: 'Width',
  height: 'Height',
  fps: 'Frame rate',
  clipSkip: 'Clip skip',
  weighting: 'Prompt weighting',
  motionGroupNorm: 'Motion GroupNorm mode',
  threads: 'Threads',
  quality: 'Quality',
  inFrame: 'The first frame',
  outFrame: 'The last frame',
};

/** "generate#0.loras[1].weight" → "LoRA 2's weight", "generate#0.width" → "Width" (the path stays in details). */
function fieldLabel(path: string): string {
  const lora = /\.loras\[(\d+)\]\.(\w+)$/.exec(path);
  if (lora) return `LoRA ${Number(lora[1]) + 1}'s ${lora[2]}`;
  if (/\.lcmLora\.weight$/.test(path)) return 'The AnimateLCM LoRA weight';
  const last = /(\w+)$/.exec(path)?.[1] ?? path;
  return FIELD_LABELS[last] ?? (/#\d+$/.test(path) ? `The request (${path})` : `"${last}"`);
}

function shown(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'not a number';
  if (typeof value === 'string') return value.length > 40 ? `a ${value.length}-character text` : JSON.stringify(value);
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : typeof value;
}

/** "from 64 to 2048", "of at least 1", … in words, for messages. */
function rangeWords(min: number, max: number): string {
  const lo = min > -Number.MAX_VALUE;
  const hi = max < Number.MAX_VALUE;
  const fmt = (n: number) => (n === Number.MAX_SAFE_INTEGER ? '2^53−1' : String(n));
  if (lo && hi) return ` from ${fmt(min)} to ${fmt(max)}`;
  if (lo) return ` of at least ${fmt(min)}`;
  if (hi) return ` of at most ${fmt(max)}`;
  return '';
}

const MAX_STRING = 100_000;
const MAX_ARRAY = 10_000;

export const str =
  (opts: { min?: number; max?: number } = {}): Validator<string> =>
  (v, path) => {
    const min = opts.min ?? 0;
    const max = opts.max ?? MAX_STRING;
    if (typeof v !== 'string' || v.length < min || v.length > max) fail(path, min > 0 ? `a text of ${min} to ${max} characters` : `a text of at most ${max} characters`, v);
    return v;
  };

export const num =
  (opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> =>
  (v, path) => {
    const min = opts.min ?? -Number.MAX_VALUE;
    const max = opts.max ?? Number.MAX_VALUE;
    const kind = opts.integer ? 'a whole number' : 'a number';
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (opts.integer && !Number.isInteger(v)))
      fail(path, `${kind}${rangeWords(min, max)}`, v);
    return v;
  };

/** Row ids from SQLite: positive safe integers. */
export const id: Validator<number> = num({ min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });

export const bool: Validator<boolean> = (v, path) => (typeof v === 'boolean' ? v : fail(path, 'true or false', v));

export const literal =
  <const T extends string>(...options: T[]): Validator<T> =>
  (v, path) =>
    typeof v === 'string' && (options as string[]).includes(v) ? (v as T) : fail(path, `one of ${options.join(', ')}`, v);

export const nullable =
  <T>(inner: Validator<T>): Validator<T | null> =>
  (v, path) =>
    v === null ? null : inner(v, path);

export const arr =
  <T>(item: Validator<T>, opts: { max?: number } = {}): Validator<T[]> =>
  (v, path) => {
    const max = opts.max ?? MAX_ARRAY;
    if (!Array.isArray(v) || v.length > max) fail(path, `an array of at most ${max} items`, v);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

type Shape = Record<string, Validator<unknown>>;
type Optional<T> = Validator<T> & { optional: true };
type OutOf<S extends Shape> = { [K in keyof S as S[K] extends Optional<unknown> ? never : K]: ReturnType<S[K]> } & {
  [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: ReturnType<S[K]>;
};

/** Marks an object field (or a trailing argument) as optional: `undefined` passes. */
export const optional = <T>(inner: Validator<T>): Optional<T | undefined> =>
  Object.assign((v: unknown, path: string) => (v === undefined ? undefined : inner(v, path)), { optional: true as const });

/** A plain object with exactly these fields: unknown fields are refused (they usually mean a client/server mismatch). */
export const obj =
  <S extends Shape>(shape: S): Validator<OutOf<S>> =>
  (v, path) => {
    if (!isPlainObject(v)) fail(path, 'an object', v);
    for (const k of Object.keys(v)) if (!(k in shape)) throw new StudioError('BAD_REQUEST', `Invalid request: ${path} has an unknown field "${k}".`, { path, field: k });
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const x = check(v[k], `${path}.${k}`);
      if (x !== undefined) out[k] = x;
    }
    return out as OutOf<S>;
  };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------------------------
// Domain validators

const providerName = literal('cpu', 'cuda', 'dml', 'coreml', 'webgpu');
const path = str({ min: 1, max: 4096 });
const controlUnit = obj({
  model: path,
  control: path,
  scale: num({ min: -10, max: 10 }),
  start: num({ min: 0, max: 1 }),
  end: num({ min: 0, max: 1 }),
  preprocess: literal('canny', 'none'),
  cannyLow: optional(num({ min: 0, max: 10_000 })),
  cannyHigh: optional(num({ min: 0, max: 10_000 })),
  enabled: optional(bool),
  modelSha256: optional(str({ max: 64 })),
  controlSha256: optional(str({ max: 64 })),
});

const seed = num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
/** Image sides: multiples of 8 (the VAE downsamples by 8), within what any machine could hold. */
const side: Validator<number> = (v, p) => {
  const n = num({ min: GENERATION_LIMITS.side.min, max: GENERATION_LIMITS.side.max, integer: true })(v, p);
  if (n % GENERATION_LIMITS.side.multiple !== 0) fail(p, `a multiple of ${GENERATION_LIMITS.side.multiple}`, v);
  return n;
};

/** Image-to-video / video-to-video input: the kind decides the fields. */
const imageInput = obj({ kind: literal('image'), path, sha256: optional(str({ max: 64 })), motionScale: num({ min: 0, max: 1.5 }), colorMatch: bool });
const videoInput = obj({ kind: literal('video'), path, sha256: optional(str({ max: 64 })), strength: num({ min: 0, max: 1 }) });
const generationInput: Validator<GenerationInput> = (v, p) =>
  isPlainObject(v) && v.kind === 'video' ? videoInput(v, p) : isPlainObject(v) && v.kind === 'image' ? imageInput(v, p) : fail(`${p}.kind`, '"image" or "video"', isPlainObject(v) ? v.kind : v);

const generationShape = {
  prompt: str({ max: 20_000 }),
  negativePrompt: str({ max: 20_000 }),
  seed,
  steps: num({ min: 1, max: 100, integer: true }),
  guidance: num({ min: 0, max: 30 }),
  frames: num({ min: GENERATION_LIMITS.frames.min, max: GENERATION_LIMITS.frames.max, integer: true }),
  width: side,
  height: side,
  fps: num({ min: 1, max: 120 }),
  model: optional(path),
  motion: optional(path),
  lcmLora: optional(obj({ path, weight: num({ min: -10, max: 10 }) })),
  loras: arr(
    obj({
      path,
      weight: num({ min: -10, max: 10 }),
      enabled: optional(bool),
      sha256: optional(str({ max: 64 })),
      name: optional(str({ max: 1000 })),
    }),
    { max: 64 },
  ),
  embeddings: optional(
    arr(
      obj({
        path,
        name: optional(str({ max: 1000 })),
        vectors: optional(num({ min: 1, max: 1000, integer: true })),
        sha256: optional(str({ max: 64 })),
      }),
      { max: 64 },
    ),
  ),
  vae: optional(path),
  clipSkip: num({ min: 1, max: 12, integer: true }),
  weighting: literal('a1111', 'comfy'),
  motionGroupNorm: literal('per_frame', 'across_frames'),
  scheduler: obj({
    name: literal('lcm'),
    beta_start: num({ min: 0, max: 1 }),
    beta_end: num({ min: 0, max: 1 }),
    beta_schedule: literal('linear', 'scaled_linear'),
    num_train_timesteps: num({ min: 1, max: 100_000, integer: true }),
    original_inference_steps: num({ min: 1, max: 100_000, integer: true }),
    timestep_scaling: num({ min: 0, max: 1000 }),
  }),
  providers: arr(providerName, { max: 8 }),
  controlNets: optional(arr(controlUnit, { max: 8 })),
  // FreeNoise long clips (domain/context-windows.ts); the pipeline checks them against the frame count.
  contextWindows: optional(
    obj({
      length: num({ min: 1, max: 256, integer: true }),
      stride: num({ min: 1, max: 256, integer: true }),
      weighting: literal('flat', 'pyramid', 'delayed_reverse_sawtooth'),
      noise: literal('shuffle_context', 'repeat_context', 'random'),
      mode: literal('studio', 'diffusers'),
    }),
  ),
  promptKeyframes: optional(arr(obj({ frame: num({ min: 0, max: 255, integer: true }), prompt: str({ max: 20_000 }) }), { max: 256 })),
  input: optional(generationInput),
  precision: optional(literal('auto', 'fp16', 'fp32', 'int8')),
};

export const generationParams: Validator<GenerationParams> = obj(generationShape);

/** Default parameters in settings: any subset of the generation parameters, each checked as above. */
const partialGenerationParams = obj(
  Object.fromEntries(Object.entries(generationShape).map(([k, v]) => [k, optional(v as Validator<unknown>)])) as {
    [K in keyof typeof generationShape]: Optional<ReturnType<(typeof generationShape)[K]> | undefined>;
  },
) as Validator<Partial<GenerationParams>>;

const libraryKind = literal('checkpoint', 'motion', 'motion-lora', 'lora', 'embedding', 'vae', 'controlnet');
const availability = literal('ok', 'missing', 'changed', 'offline');
const folderLayout = literal('a1111', 'comfyui', 'plain');
const tags = arr(str({ max: 200 }), { max: 500 });
const jobStatus = literal('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted');

const libraryFilter = obj({
  kind: optional(libraryKind),
  family: optional(str({ max: 100 })),
  tag: optional(str({ max: 200 })),
  favourite: optional(bool),
  supported: optional(bool),
  text: optional(str({ max: 1000 })),
  availability: optional(availability),
});

const importOptions = obj({
  mode: optional(literal('reference', 'copy')),
  kind: optional(libraryKind),
  name: optional(str({ max: 1000 })),
  tags: optional(tags),
});

const libraryItemUpdate = obj({
  name: optional(str({ min: 1, max: 1000 })),
  triggerWords: optional(tags),
  tags: optional(tags),
  favourite: optional(bool),
  // a file path or a data: URL (previews are small images)
  preview: optional(nullable(str({ max: 2_000_000 }))),
});

const isoInstant: Validator<string> = (v, p) => {
  const s = str({ max: 40 })(v, p);
  if (Number.isNaN(Date.parse(s))) fail(p, 'an ISO-8601 date', v);
  return s;
};

const generationFilter = obj({
  text: optional(str({ max: 1000 })),
  model: optional(str({ max: 4096 })),
  lora: optional(str({ max: 4096 })),
  from: optional(isoInstant),
  to: optional(isoInstant),
  favourite: optional(bool),
  status: optional((v, p) => (Array.isArray(v) ? arr(jobStatus, { max: 6 })(v, p) : jobStatus(v, p))),
  limit: optional(num({ min: 1, max: 500, integer: true })),
  offset: optional(num({ min: 0, max: Number.MAX_SAFE_INTEGER, integer: true })),
  order: optional(literal('newest', 'oldest')),
});

const exportFormat = literal('mp4', 'webm', 'gif', 'png');
const exportOptions = obj({
  format: exportFormat,
  outputPath: optional(path),
  name: optional(str({ min: 1, max: 200 })),
  overwrite: optional(bool),
  quality: optional(num({ min: 0, max: 100 })),
  width: optional(side),
  height: optional(side),
  fps: optional(num({ min: 1, max: 120 })),
});

const settingsPatch = obj({
  providers: optional(arr(providerName, { max: 8 })),
  threads: optional(nullable(num({ min: 1, max: 1024, integer: true }))),
  defaultParams: optional(partialGenerationParams),
});

const jobId = str({ min: 1, max: 200 });
/** Uploads: a bare file name (no folders), up to 8 GiB, 8 MiB of base64 a chunk (6 MiB decoded). */
export const UPLOAD_MAX_BYTES = 8 * 1024 ** 3;
export const UPLOAD_CHUNK_BYTES = 6 * 1024 ** 2;
const uploadName: Validator<string> = (v, p) => {
  const s = str({ min: 1, max: 255 })(v, p);
  if (/[\\/\0]/.test(s) || s === '.' || s === '..') fail(p, 'a file name without folders', v);
  return s;
};
const base64Chunk: Validator<string> = (v, p) => {
  if (typeof v !== 'string' || v.length > Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) fail(p, `base64 of at most ${UPLOAD_CHUNK_BYTES} bytes`, v);
  return v;
};
const timelineName = str({ min: 1, max: 200 });
const frame = num({ min: 0, max: 1_000_000, integer: true });

/** One validator per argument position. Trailing optional arguments use `optional(…)`. */
type ValidatorsOf<T extends readonly unknown[]> = { [I in keyof T]: Validator<T[I]> };
type ArgValidators<M extends ApiMethod> = ValidatorsOf<ApiArgs<M>>;

export const API_VALIDATORS: { [M in ApiMethod]: ArgValidators<M> } = {
  getEngineInfo: [],
  generate: [generationParams],
  cancelJob: [jobId],
  listJobs: [],
  countTokens: [str({ max: 20_000 }), optional(literal('a1111', 'comfy'))],
  previewControlUnit: [controlUnit, obj({ frames: num({ min: 1, max: 1024, integer: true }), width: num({ min: 8, max: 4096, integer: true }), height: num({ min: 8, max: 4096, integer: true }) })],
  listModels: [optional(libraryFilter)],
  listLoras: [optional(libraryFilter)],
  importFile: [path, optional(importOptions)],
  removeItem: [id],
  updateItem: [id, libraryItemUpdate],
  refreshLibrary: [],
  addModelFolder: [path, optional(folderLayout)],
  listModelFolders: [],
  removeModelFolder: [id],
  listFolderNotes: [optional(id)],
  downloadStarterFile: [str({ min: 1, max: 100 })],
  cancelStarterDownload: [str({ min: 1, max: 100 })],
  beginUpload: [uploadName, num({ min: 1, max: UPLOAD_MAX_BYTES, integer: true })],
  uploadChunk: [jobId, num({ min: 0, max: UPLOAD_MAX_BYTES, integer: true }), base64Chunk],
  finishUpload: [jobId, optional(importOptions)],
  finishInputUpload: [jobId, literal('image', 'video')],
  listGenerations: [optional(generationFilter)],
  getGeneration: [id],
  reroll: [id],
  rerunExact: [id],
  reuseParams: [id],
  setFavourite: [id, bool],
  deleteGeneration: [id],
  listTimelines: [],
  getTimeline: [id],
  createTimeline: [timelineName],
  renameTimeline: [id, timelineName],
  deleteTimeline: [id],
  addClip: [id, id],
  moveClip: [id, num({ min: 0, max: 100_000, integer: true })],
  trimClip: [id, frame, frame],
  removeClip: [id],
  duplicateClip: [id],
  setClipSpeed: [id, num({ min: CLIP_SPEED_MIN, max: CLIP_SPEED_MAX })],
  setClipCrossfade: [id, num({ min: 0, max: CROSSFADE_MAX })],
  exportClip: [id, exportOptions],
  exportTimeline: [id, exportOptions],
  cancelExport: [jobId],
  chooseExportPath: [str({ min: 1, max: 200 }), exportFormat],
  getSettings: [],
  updateSettings: [settingsPatch],
};

// Every listed method has validators (a compile error in API_VALIDATORS otherwise); this keeps the list honest too.
void API_METHODS;

/**
 * Checks a request coming off the wire. `args` must be an array no longer than the method's parameter list;
 * missing trailing arguments are allowed only where the validator is optional.
 */
export function validateArgs<M extends ApiMethod>(method: M, args: unknown): ApiArgs<M> {
  if (!Array.isArray(args)) fail(`${method}(…)`, 'an argument list', args);
  const validators = API_VALIDATORS[method] as readonly Validator<unknown>[];
  if (args.length > validators.length)
    throw new StudioError('BAD_REQUEST', `Invalid request: ${method} takes at most ${validators.length} argument(s), got ${args.length}.`, {
      method,
      expected: validators.length,
      got: args.length,
    });
  const out = validators.map((check, i) => check(args[i], `${method}#${i}`));
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out as ApiArgs<M>;
}
