/**
 * The StudioApi: the one contract between the renderer and everything else. The renderer never touches files,
 * models or the database; it calls these methods and listens to these events. Two transports carry it
 * (Electron IPC through the preload's contextBridge, and a localhost WebSocket in web mode); both are generated
 * from the name lists below, so a method added here is available everywhere once its validator and service exist.
 *
 * Conventions (after VS Code's IPC): properties named `onX` are events (subscribe, get an unsubscribe function);
 * everything else is an async request. Errors cross as plain data ({ code, message, details }, src/shared/errors.ts)
 * and are re-thrown on the caller's side as StudioError. Every request's arguments are validated at runtime in main
 * (src/shared/api-validation.ts) before a service sees them.
 */
import type { SerializedError } from './errors';
import type { GenerationParams, JobStatus, ProviderName, StepProgress, WeightingMode } from './domain/generation';
import type { TokenCount } from './domain/prompt-tokens';
import type { ControlNetUnit, ControlPreview, ControlPreviewClip } from './domain/controlnet';
import type { DeleteGenerationResult, GenerationFilter, GenerationPage, GenerationRecord } from './domain/history';
import type { FolderFileNote, FolderLayout, ImportOptions, ImportResult, LibraryFilter, LibraryItem, LibraryItemUpdate, ModelFolder, RefreshResult } from './domain/library';
import type { ExportFormat } from './domain/export';
import type { Timeline, TimelineSummary } from './domain/timeline';

// ---------------------------------------------------------------------------------------------------------------
// Engine

/** Which transport the renderer is talking through. */
export type TransportMode = 'electron' | 'web';

/** The device behind a GPU provider, as far as the engine can tell (engine/runtime/webgpu-adapter.ts). */
export interface DeviceInfo {
  vendor: string;
  name: string;
  /** True when the device runs fp16 shaders (WebGPU's shader-f16), so fp16 graphs can run on it. */
  shaderF16: boolean;
  /** Device memory in bytes, where the system reports it. */
  memoryBytes?: number;
  /** A CPU emulation of a GPU (SwiftShader, llvmpipe): works, but slower than the CPU provider. */
  software: boolean;
}

export interface ProviderStatus {
  name: ProviderName;
  /** True only if a session actually started on it on this machine. */
  usable: boolean;
  /** Why not, in words a creator can act on: one sentence. */
  reason?: string;
  /** When it was tried and failed to start: onnxruntime's whole message (shown behind "Details"). */
  detail?: string;
  /** The adapter behind it (WebGPU), when usable. */
  device?: DeviceInfo;
}

export interface EngineInfo {
  onnxruntimeVersion: string;
  providers: ProviderStatus[];
  appVersion: string;
  mode: TransportMode;
}

/** The engine worker's life: starting → ready ⇄ busy; failed when the worker died or could not start. */
export type EngineState = 'starting' | 'ready' | 'busy' | 'failed' | 'stopped';

export interface EngineStatus {
  state: EngineState;
  /** Jobs queued or running in the engine. */
  activeJobs: number;
  error?: SerializedError;
}

// ---------------------------------------------------------------------------------------------------------------
// Generation jobs

export interface JobRef {
  jobId: string;
}

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  /** The history record the job writes (null until the services created it). */
  generationId: number | null;
  params: GenerationParams;
  /** ISO-8601 UTC. */
  queuedAt: string;
  /** Latest progress (without preview frames, which travel only in onJobProgress). */
  progress: StepProgress | null;
  error: SerializedError | null;
}

export interface JobStateEvent {
  jobId: string;
  status: JobStatus;
  generationId: number | null;
  error?: SerializedError;
}

// ---------------------------------------------------------------------------------------------------------------
// Uploads: a file the page holds (picked with <input type=file> or dropped) but whose path it cannot know — a
// browser never reveals one, nor does Electron's sandboxed renderer. Sent in base64 chunks (each well under the
// web socket's message cap), written to the data folder, then imported as a studio-owned copy.

export interface UploadRef {
  uploadId: string;
  /** Largest chunk (decoded bytes) the server accepts. */
  chunkBytes: number;
}

/** An uploaded picture or clip stored as a generation input (finishInputUpload). */
export interface StoredInput {
  kind: 'image' | 'video';
  /** The stored copy, `<data>/inputs/<sha256>.<ext>`: what GenerationParams.input.path names. */
  path: string;
  sha256: string;
  /** A PNG of its first frame (at most 256 px a side), servable as media. */
  thumbnail: string;
  /** The file name the creator uploaded. */
  name: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Export: what the renderer asks for. The export service maps it onto the engine-side ExportOptions of
// src/shared/domain/export.ts (quality 0…100 → a preset, width/height → scale).

export type { ExportFormat };

export interface ExportOptions {
  format: ExportFormat;
  /**
   * Absolute output path (file, or a new or empty folder for a PNG sequence), e.g. from a save dialog. Inside the
   * data folder only exports/ is allowed. Default: a free name in the data folder's exports/.
   */
  outputPath?: string;
  /** Instead of outputPath: a file name in the data folder's exports/ (web mode); the extension is added. */
  name?: string;
  /** Replace an existing file at the destination (never a folder). Default false: an existing target is refused. */
  overwrite?: boolean;
  /** 0 (smallest) … 100 (best). */
  quality?: number;
  /** Output size; default: the clip's own size. */
  width?: number;
  height?: number;
  fps?: number;
}

export interface ExportRef {
  exportId: string;
}

export type ExportStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ExportProgressEvent {
  exportId: string;
  status: ExportStatus;
  /** 0 … 1. */
  fraction: number;
  outputPath?: string;
  error?: SerializedError;
}

// ---------------------------------------------------------------------------------------------------------------
// Settings (stored per key by src/main/store/settings-store.ts; defaults in studio-services.ts)

export interface StudioSettings {
  /** Execution providers to try, in order. */
  providers: ProviderName[];
  /** Intra-op threads for onnxruntime; null = its default (one per physical core). */
  threads: number | null;
  /** Starting values for the Generate panel. */
  defaultParams: Partial<GenerationParams>;
}

/** The data folder is fixed per launch (flag/env); it is reported with the settings, not changed through them. */
export interface SettingsView extends StudioSettings {
  dataDir: string;
}

export type SettingsPatch = Partial<StudioSettings>;

// ---------------------------------------------------------------------------------------------------------------
// The contract

export interface StudioMethods {
  // engine
  getEngineInfo(): Promise<EngineInfo>;
  // generation
  generate(params: GenerationParams): Promise<JobRef>;
  cancelJob(jobId: string): Promise<void>;
  listJobs(): Promise<JobSummary[]>;
  /** How the text encoder splits a prompt: tokens in each 75-token chunk (the prompt box's counter). */
  countTokens(text: string, mode?: WeightingMode): Promise<TokenCount>;
  /** A ControlNet unit's control maps (decoded, resized, preprocessed in the engine worker) as preview PNGs. */
  previewControlUnit(unit: ControlNetUnit, clip: ControlPreviewClip): Promise<ControlPreview>;
  // library
  listModels(filter?: LibraryFilter): Promise<LibraryItem[]>;
  listLoras(filter?: LibraryFilter): Promise<LibraryItem[]>;
  importFile(path: string, options?: ImportOptions): Promise<ImportResult>;
  removeItem(id: number): Promise<void>;
  updateItem(id: number, patch: LibraryItemUpdate): Promise<LibraryItem>;
  refreshLibrary(): Promise<RefreshResult>;
  /**
   * Index a folder of models in place (never copied; layout detected when not given). Resolves after the scan;
   * hashing goes on in the background (onFolderProgress, and the folder's done/pending counts).
   */
  addModelFolder(path: string, layout?: FolderLayout): Promise<ModelFolder>;
  listModelFolders(): Promise<ModelFolder[]>;
  /** Forget the folder; its items stay in the library, the creator's files are never touched. */
  removeModelFolder(id: number): Promise<void>;
  /** Why files of a folder (or of all) are not in the library. */
  listFolderNotes(folderId?: number): Promise<FolderFileNote[]>;
  /**
   * First run: download one of STARTER_FILES (shared/domain/starter-files) into `<data>/models`, resumable and
   * hash-checked, then import it. Progress comes as onFolderProgress with folderId 0.
   */
  downloadStarterFile(id: string): Promise<ImportResult>;
  /** Stop that download; its part is kept, so downloading again resumes. */
  cancelStarterDownload(id: string): Promise<void>;
  beginUpload(fileName: string, sizeBytes: number): Promise<UploadRef>;
  uploadChunk(uploadId: string, offset: number, base64: string): Promise<void>;
  /** Imports the completed upload (always as a copy); the temporary file is removed either way. */
  finishUpload(uploadId: string, options?: ImportOptions): Promise<ImportResult>;
  /**
   * Stores the completed upload as an image-to-video / video-to-video input (under its hash in the data folder's
   * inputs/) and makes its thumbnail; a file ffmpeg cannot read a frame from is refused (INVALID_PARAMS).
   */
  finishInputUpload(uploadId: string, kind: 'image' | 'video'): Promise<StoredInput>;
  // history
  listGenerations(filter?: GenerationFilter): Promise<GenerationPage>;
  getGeneration(id: number): Promise<GenerationRecord>;
  reroll(id: number): Promise<JobRef>;
  rerunExact(id: number): Promise<JobRef>;
  reuseParams(id: number): Promise<GenerationParams>;
  setFavourite(id: number, favourite: boolean): Promise<GenerationRecord>;
  deleteGeneration(id: number): Promise<DeleteGenerationResult>;
  // timeline
  listTimelines(): Promise<TimelineSummary[]>;
  getTimeline(id: number): Promise<Timeline>;
  createTimeline(name: string): Promise<Timeline>;
  renameTimeline(id: number, name: string): Promise<Timeline>;
  deleteTimeline(id: number): Promise<void>;
  addClip(timelineId: number, generationId: number): Promise<Timeline>;
  moveClip(clipId: number, position: number): Promise<Timeline>;
  trimClip(clipId: number, inFrame: number, outFrame: number): Promise<Timeline>;
  removeClip(clipId: number): Promise<Timeline>;
  duplicateClip(clipId: number): Promise<Timeline>;
  /** Playback speed of a clip on its timeline, CLIP_SPEED_MIN … CLIP_SPEED_MAX (1 = the generation's fps). */
  setClipSpeed(clipId: number, speed: number): Promise<Timeline>;
  /** Seconds the clip fades in over the previous one, 0 (a cut) … CROSSFADE_MAX; export blends the frames. */
  setClipCrossfade(clipId: number, seconds: number): Promise<Timeline>;
  // export
  exportClip(generationId: number, options: ExportOptions): Promise<ExportRef>;
  exportTimeline(timelineId: number, options: ExportOptions): Promise<ExportRef>;
  cancelExport(exportId: string): Promise<void>;
  /**
   * Desktop only: the system's save dialog, suggesting `suggestedName` (the extension is the format's). Resolves
   * with the chosen absolute path, or null when cancelled; the dialog has already asked before replacing a file.
   * Web mode answers BAD_REQUEST: a browser names files under the data folder's exports/ instead.
   */
  chooseExportPath(suggestedName: string, format: ExportFormat): Promise<string | null>;
  // settings
  getSettings(): Promise<SettingsView>;
  updateSettings(patch: SettingsPatch): Promise<SettingsView>;
}

/** Payload of each event. */
export interface StudioEventPayloads {
  onEngineStatus: EngineStatus;
  /** One per sampling step and stage; `preview` carries small RGB frames of the current x0. */
  onJobProgress: StepProgress;
  onJobState: JobStateEvent;
  onExportProgress: ExportProgressEvent;
  /** Background hashing of model folders: files settled in this pass of how many. */
  onFolderProgress: FolderProgressEvent;
}

export interface FolderProgressEvent {
  folderId: number;
  done: number;
  total: number;
  path: string;
}

export type Listener<T> = (payload: T) => void;
export type Unsubscribe = () => void;

export type StudioEvents = { [E in ApiEvent]: (listener: Listener<StudioEventPayloads[E]>) => Unsubscribe };

/** What the renderer programs against, whatever the transport. */
export type StudioApi = StudioMethods & StudioEvents;

// Name lists drive both transports at runtime. The `satisfies` checks below fail to compile when a list and the
// interfaces above drift apart (a method in one and not the other).

export const API_METHODS = [
  'getEngineInfo',
  'generate',
  'cancelJob',
  'listJobs',
  'countTokens',
  'previewControlUnit',
  'listModels',
  'listLoras',
  'importFile',
  'removeItem',
  'updateItem',
  'refreshLibrary',
  'addModelFolder',
  'listModelFolders',
  'removeModelFolder',
  'listFolderNotes',
  'downloadStarterFile',
  'cancelStarterDownload',
  'beginUpload',
  'uploadChunk',
  'finishUpload',
  'finishInputUpload',
  'listGenerations',
  'getGeneration',
  'reroll',
  'rerunExact',
  'reuseParams',
  'setFavourite',
  'deleteGeneration',
  'listTimelines',
  'getTimeline',
  'createTimeline',
  'renameTimeline',
  'deleteTimeline',
  'addClip',
  'moveClip',
  'trimClip',
  'removeClip',
  'duplicateClip',
  'setClipSpeed',
  'setClipCrossfade',
  'exportClip',
  'exportTimeline',
  'cancelExport',
  'chooseExportPath',
  'getSettings',
  'updateSettings',
] as const satisfies readonly (keyof StudioMethods)[];

export const API_EVENTS = ['onEngineStatus', 'onJobProgress', 'onJobState', 'onExportProgress', 'onFolderProgress'] as const satisfies readonly (keyof StudioEventPayloads)[];

export type ApiMethod = (typeof API_METHODS)[number];
export type ApiEvent = (typeof API_EVENTS)[number];

type MissingFromList<Keys, Listed> = Exclude<Keys, Listed>;
/** Compile-time completeness: both must be `never`. */
const _methodsListed: MissingFromList<keyof StudioMethods, ApiMethod> extends never ? true : false = true;
const _eventsListed: MissingFromList<keyof StudioEventPayloads, ApiEvent> extends never ? true : false = true;
void _methodsListed;
void _eventsListed;

export function isApiMethod(v: unknown): v is ApiMethod {
  return typeof v === 'string' && (API_METHODS as readonly string[]).includes(v);
}

export function isApiEvent(v: unknown): v is ApiEvent {
  return typeof v === 'string' && (API_EVENTS as readonly string[]).includes(v);
}

export type ApiArgs<M extends ApiMethod> = Parameters<StudioMethods[M]>;
export type ApiReturn<M extends ApiMethod> = Awaited<ReturnType<StudioMethods[M]>>;

// ---------------------------------------------------------------------------------------------------------------
// Wire forms shared by both transports

/** A request's outcome as data: transports never rely on their own error marshalling (Electron mangles it). */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/**
 * What the preload exposes as `window.studio`: the same named methods, but returning ApiResult envelopes (an
 * Error does not survive contextBridge with its code), plus the events. The renderer's client turns envelopes back
 * into values and thrown StudioErrors, so panels see only StudioApi.
 */
export type StudioBridge = {
  readonly mode: 'electron';
} & { [M in ApiMethod]: (...args: ApiArgs<M>) => Promise<ApiResult<ApiReturn<M>>> } & StudioEvents;

/** Web transport, client → server. */
export interface WireRequest {
  id: number;
  method: string;
  args: unknown[];
}

/** Web transport, server → client. */
export type WireMessage =
  | { type: 'result'; id: number; result: ApiResult<unknown> }
  | { type: 'event'; event: ApiEvent; payload: unknown };

/** Electron transport channel names: one per method, one for all events. */
export const IPC_METHOD_PREFIX = 'studio:call:';
export const IPC_EVENT_CHANNEL = 'studio:event';
export const ipcChannelFor = (method: ApiMethod): string => IPC_METHOD_PREFIX + method;

/** Web transport paths. */
export const WEB_SOCKET_PATH = '/api';
export const WEB_MEDIA_PATH = '/media/';
/** Custom protocol for media files in Electron (limited to the app's own folders). */
export const MEDIA_PROTOCOL = 'studio-media';
