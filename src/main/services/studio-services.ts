/**
 * The object behind the StudioApi: each method delegates to the service that owns the concept (engine host,
 * library, history, timeline, export, settings). Both transports (Electron IPC in src/main/electron/ipc-server.ts,
 * the WebSocket in src/main/web/server.ts) call `invokeApi`, the one place that checks the method name, validates
 * the arguments and turns any failure into a serialised error.
 *
 * The database opens on first use, not at start: a corrupt or too-new database then fails the calls that need it
 * with the store's own message, while the shell, the engine status and everything else keep working.
 */
import { join } from 'node:path';
import { version as packageVersion } from '../../../package.json';
import {
  API_METHODS,
  isApiMethod,
  type ApiEvent,
  type ApiResult,
  type EngineInfo,
  type ExportFormat,
  type ExportOptions,
  type ExportRef,
  type JobRef,
  type JobSummary,
  type SettingsPatch,
  type SettingsView,
  type StudioEventPayloads,
  type StudioMethods,
  type StudioSettings,
  type TransportMode,
  type StoredInput,
  type UploadRef,
} from '../../shared/api';
import { validateArgs } from '../../shared/api-validation';
import type { ControlNetUnit, ControlPreview, ControlPreviewClip } from '../../shared/domain/controlnet';
import { AUTO_PROVIDERS, type GenerationParams, type WeightingMode } from '../../shared/domain/generation';
import type { TokenCount } from '../../shared/domain/prompt-tokens';
import type { DeleteGenerationResult, GenerationFilter, GenerationPage, GenerationRecord } from '../../shared/domain/history';
import type { FolderFileNote, FolderLayout, ImportOptions, ImportResult, LibraryFilter, LibraryItem, LibraryItemUpdate, ModelFolder, RefreshResult } from '../../shared/domain/library';
import { ModelFolderService } from './model-folders';
import { downloadStarterFile } from './starter-download';
import { STARTER_FILES } from '../../shared/domain/starter-files';
import type { Timeline, TimelineSummary } from '../../shared/domain/timeline';
import { StudioError, serializeError } from '../../shared/errors';
import { openDatabase, type StudioDatabase } from '../store/database';
import { dataLayout } from '../store/layout';
import { SettingsStore, type JsonValue } from '../store/settings-store';
import { ControlPreviewService } from './control-preview-service';
import { EngineHost } from './engine-host';
import { ExportService, storeLookup } from './export-service';
import { GenerationService } from './generation-service';
import { HistoryService } from './history-service';
import { engineInspector } from './library-inspector';
import { LibraryService } from './library-service';
import { PromptService } from './prompt-service';
import { TimelineService } from './timeline-service';
import { storeUploadedInput } from './input-upload';
import { LOCAL_CLIENT, UploadService } from './upload-service';

export const APP_VERSION: string = packageVersion;

export type EventSink = <E extends ApiEvent>(event: E, payload: StudioEventPayloads[E]) => void;

/** Shows a save dialog; the chosen absolute path, or null when cancelled. */
export type SavePicker = (suggestedName: string, format: ExportFormat) => Promise<string | null>;

export interface StudioServicesOptions {
  dataDir: string;
  mode: TransportMode;
  engine: EngineHost;
}

/** What a fresh studio uses until the creator changes it. */
export const DEFAULT_SETTINGS: StudioSettings = { providers: [...AUTO_PROVIDERS], threads: null, defaultParams: {} };

/** The store-backed services over one open database. */
interface Stores {
  db: StudioDatabase;
  library: LibraryService;
  folders: ModelFolderService;
  history: HistoryService;
  timeline: TimelineService;
  exports: ExportService;
  settings: SettingsStore;
  generation: GenerationService;
  uploads: UploadService;
}

export class StudioServices implements StudioMethods {
  readonly dataDir: string;
  readonly mode: TransportMode;
  readonly engine: EngineHost;
  private readonly sinks = new Set<EventSink>();
  private readonly unhook: () => void;
  private opened: Stores | undefined;
  private savePicker: SavePicker | undefined;
  private readonly prompts = new PromptService();
  private readonly controlPreviews: ControlPreviewService;

  constructor(opts: StudioServicesOptions) {
    this.dataDir = opts.dataDir;
    this.mode = opts.mode;
    this.engine = opts.engine;
    this.controlPreviews = new ControlPreviewService(this.engine, dataLayout(this.dataDir).controlPreviews);
    this.unhook = this.engine.onStatus((s) => this.emit('onEngineStatus', s));
  }

  /** Every event the services raise, for a transport to forward. Returns an unsubscribe function. */
  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  emit<E extends ApiEvent>(event: E, payload: StudioEventPayloads[E]): void {
    for (const sink of this.sinks) sink(event, payload);
  }

  /**
   * The API as one client sees it (a web page's socket): the same methods, except that its uploads count against
   * its own allowance and go when `releaseClient(client)` is called.
   */
  clientApi(client: string): StudioMethods {
    const api = Object.fromEntries(API_METHODS.map((m) => [m, (this[m] as (...a: unknown[]) => Promise<unknown>).bind(this)])) as unknown as StudioMethods;
    api.beginUpload = (fileName, sizeBytes) => this.stores().uploads.begin(fileName, sizeBytes, client);
    return api;
  }

  /** The client is gone: what it left in progress (its uploads) is discarded. Opens nothing that is not open. */
  async releaseClient(client: string): Promise<void> {
    await this.opened?.uploads.releaseClient(client);
  }

  /**
   * Folders whose files the media protocol / route may serve: the studio's own outputs, exports and library, and
   * the model folders the creator registered (their preview images), and the stored generation inputs (Generate's
   * and History's input thumbnails) — never any other path.
   */
  mediaRoots(): string[] {
    const l = dataLayout(this.dataDir);
    const folders = this.opened?.folders.listFolders().filter((f) => f.status === 'ok').map((f) => f.path) ?? [];
    return [l.outputs, l.exports, l.library, l.controlPreviews, l.inputs, ...folders];
  }

  async close(): Promise<void> {
    this.unhook();
    this.sinks.clear();
    if (this.opened) {
      // Queued and running jobs are cancelled (and recorded so) while the database is still open.
      await this.opened.generation.dispose();
      this.opened.exports.cancelAll();
      await this.opened.uploads.close();
      await this.opened.folders.close();
      this.opened.db.close();
      this.opened = undefined;
    }
    await this.engine.dispose();
  }

  /** Opens the database on first use (migrations and crash recovery run then); a failure is retried next call. */
  private stores(): Stores {
    if (!this.opened) {
      const db = openDatabase(this.dataDir);
      const history = new HistoryService(db);
      const settings = new SettingsStore(db);
      // Import's header parse, detection and hashing run in the engine worker: main's event loop stays free.
      const library = new LibraryService(db, { inspector: engineInspector(this.engine) });
      const folders = new ModelFolderService(db, library, undefined, (p) => this.emit('onFolderProgress', p));
      this.opened = {
        db,
        library,
        folders,
        uploads: new UploadService(join(this.dataDir, 'uploads'), (p, o) => library.importFile(p, o)),
        history,
        timeline: new TimelineService(db),
        exports: new ExportService({ dataDir: this.dataDir, lookup: storeLookup(db), emit: (e) => this.emit('onExportProgress', e) }),
        settings,
        generation: new GenerationService({
          engine: this.engine,
          history,
          dataDir: this.dataDir,
          emit: (event, payload) => this.emit(event, payload),
          threads: () => {
            const t = settings.get('threads');
            return typeof t === 'number' && t > 0 ? t : undefined;
          },
        }),
      };
      // What changed while the studio was closed is found by a rescan; then the folders are watched, and what is
      // new is hashed in the background (in the engine worker).
      void folders
        .rescanAll()
        .then(() => {
          folders.watchAll();
          return folders.hashPending();
        })
        .catch(() => undefined);
    }
    return this.opened;
  }

  // engine ---------------------------------------------------------------------------------------------------------

  async getEngineInfo(): Promise<EngineInfo> {
    // Asked inside the worker: what onnxruntime sees there is what generation will get.
    const info = await this.engine.request('info', {});
    return { onnxruntimeVersion: info.onnxruntimeVersion, providers: info.providers, appVersion: APP_VERSION, mode: this.mode };
  }

  // generation: the queue (generation-service.ts) runs each job in the engine worker and records it in the history

  async generate(params: GenerationParams): Promise<JobRef> {
    return { jobId: (await this.stores().generation.enqueue(params)).jobId };
  }
  async cancelJob(jobId: string): Promise<void> {
    return this.stores().generation.cancel(jobId);
  }
  async listJobs(): Promise<JobSummary[]> {
    return this.stores().generation.listSummaries();
  }
  async countTokens(text: string, mode?: WeightingMode): Promise<TokenCount> {
    return this.prompts.countTokens(text, mode);
  }
  async previewControlUnit(unit: ControlNetUnit, clip: ControlPreviewClip): Promise<ControlPreview> {
    return this.controlPreviews.preview(unit, clip);
  }

  // library --------------------------------------------------------------------------------------------------------

  async listModels(filter?: LibraryFilter): Promise<LibraryItem[]> {
    return this.stores().library.listModels(filter);
  }
  async listLoras(filter?: LibraryFilter): Promise<LibraryItem[]> {
    return this.stores().library.listLoras(filter);
  }
  async importFile(path: string, options?: ImportOptions): Promise<ImportResult> {
    return this.stores().library.importFile(path, options);
  }
  async removeItem(id: number): Promise<void> {
    return this.stores().library.removeItem(id);
  }
  async updateItem(id: number, patch: LibraryItemUpdate): Promise<LibraryItem> {
    return this.stores().library.updateItem(id, patch);
  }
  async refreshLibrary(): Promise<RefreshResult> {
    const { library, folders } = this.stores();
    await library.refreshLibrary();
    // Folders after files: a folder whose root is gone turns its items 'offline' rather than 'missing'.
    await folders.rescanAll();
    void folders.hashPending().catch(() => undefined);
    const items = await library.list();
    return { checked: items.length, missing: items.filter((i) => i.availability === 'missing').length, changed: items.filter((i) => i.availability === 'changed').length, items };
  }
  async addModelFolder(path: string, layout?: FolderLayout): Promise<ModelFolder> {
    const { folders } = this.stores();
    const { folder } = await folders.addFolder(path, layout);
    folders.watchFolder(folder.id);
    void folders.hashPending().catch(() => undefined);
    return folder;
  }
  async listModelFolders(): Promise<ModelFolder[]> {
    return this.stores().folders.listFolders();
  }
  async removeModelFolder(id: number): Promise<void> {
    return this.stores().folders.removeFolder(id);
  }
  async listFolderNotes(folderId?: number): Promise<FolderFileNote[]> {
    return this.stores().folders.notes(folderId);
  }
  private readonly downloads = new Map<string, AbortController>();
  async downloadStarterFile(id: string): Promise<ImportResult> {
    const file = STARTER_FILES.find((f) => f.id === id);
    if (!file) throw new StudioError('BAD_REQUEST', `There is no starter file "${id}".`, { id });
    if (this.downloads.has(id)) throw new StudioError('BAD_REQUEST', `${file.fileName} is already downloading.`, { id });
    const ac = new AbortController();
    this.downloads.set(id, ac);
    try {
      return await downloadStarterFile(file, join(this.dataDir, 'models'), this.stores().library, {
        signal: ac.signal,
        onProgress: (p) => this.emit('onFolderProgress', { folderId: 0, done: p.received, total: p.total ?? file.sizeBytes ?? 0, path: file.fileName }),
      });
    } finally {
      this.downloads.delete(id);
    }
  }
  async cancelStarterDownload(id: string): Promise<void> {
    this.downloads.get(id)?.abort();
  }

  async beginUpload(fileName: string, sizeBytes: number): Promise<UploadRef> {
    return this.stores().uploads.begin(fileName, sizeBytes, LOCAL_CLIENT);
  }
  async uploadChunk(uploadId: string, offset: number, base64: string): Promise<void> {
    return this.stores().uploads.chunk(uploadId, offset, base64);
  }
  async finishUpload(uploadId: string, options?: ImportOptions): Promise<ImportResult> {
    return this.stores().uploads.finish(uploadId, options);
  }
  async finishInputUpload(uploadId: string, kind: 'image' | 'video'): Promise<StoredInput> {
    return this.stores().uploads.finishWith(uploadId, (path, name) => storeUploadedInput(path, name, kind, this.dataDir));
  }

  // history --------------------------------------------------------------------------------------------------------

  async listGenerations(filter?: GenerationFilter): Promise<GenerationPage> {
    return this.stores().history.listGenerations(filter);
  }
  async getGeneration(id: number): Promise<GenerationRecord> {
    return this.stores().history.getGeneration(id);
  }
  // Re-roll and re-run insert a queued record (history) and put it in the generation queue.
  async reroll(id: number): Promise<JobRef> {
    return { jobId: (await this.stores().generation.reroll(id)).jobId };
  }
  async rerunExact(id: number): Promise<JobRef> {
    return { jobId: (await this.stores().generation.rerunExact(id)).jobId };
  }
  async reuseParams(id: number): Promise<GenerationParams> {
    return this.stores().history.reuseParams(id);
  }
  async setFavourite(id: number, favourite: boolean): Promise<GenerationRecord> {
    return this.stores().history.setFavourite(id, favourite);
  }
  async deleteGeneration(id: number): Promise<DeleteGenerationResult> {
    return this.stores().history.deleteGeneration(id);
  }

  // timeline -------------------------------------------------------------------------------------------------------

  async listTimelines(): Promise<TimelineSummary[]> {
    return this.stores().timeline.listTimelines();
  }
  async getTimeline(id: number): Promise<Timeline> {
    return this.stores().timeline.getTimeline(id);
  }
  async createTimeline(name: string): Promise<Timeline> {
    return this.stores().timeline.createTimeline(name);
  }
  async renameTimeline(id: number, name: string): Promise<Timeline> {
    return this.stores().timeline.renameTimeline(id, name);
  }
  async deleteTimeline(id: number): Promise<void> {
    return this.stores().timeline.deleteTimeline(id);
  }
  async addClip(timelineId: number, generationId: number): Promise<Timeline> {
    return this.stores().timeline.addClip(timelineId, generationId);
  }
  async moveClip(clipId: number, position: number): Promise<Timeline> {
    return this.stores().timeline.moveClip(clipId, position);
  }
  async trimClip(clipId: number, inFrame: number, outFrame: number): Promise<Timeline> {
    return this.stores().timeline.trimClip(clipId, inFrame, outFrame);
  }
  async removeClip(clipId: number): Promise<Timeline> {
    return this.stores().timeline.removeClip(clipId);
  }
  async duplicateClip(clipId: number): Promise<Timeline> {
    return this.stores().timeline.duplicateClip(clipId);
  }
  async setClipSpeed(clipId: number, speed: number): Promise<Timeline> {
    return this.stores().timeline.setClipSpeed(clipId, speed);
  }
  async setClipCrossfade(clipId: number, seconds: number): Promise<Timeline> {
    return this.stores().timeline.setClipCrossfade(clipId, seconds);
  }

  // export ---------------------------------------------------------------------------------------------------------

  async exportClip(generationId: number, options: ExportOptions): Promise<ExportRef> {
    return this.stores().exports.exportClip(generationId, options);
  }
  async exportTimeline(timelineId: number, options: ExportOptions): Promise<ExportRef> {
    return this.stores().exports.exportTimeline(timelineId, options);
  }
  async cancelExport(exportId: string): Promise<void> {
    return this.stores().exports.cancelExport(exportId);
  }
  async chooseExportPath(suggestedName: string, format: ExportFormat): Promise<string | null> {
    if (!this.savePicker) {
      throw new StudioError('BAD_REQUEST', 'There is no save dialog in web mode: give the export a name and it is saved in the data folder\'s exports/.');
    }
    return this.savePicker(suggestedName, format);
  }

  /** The desktop shell's save dialog (Electron's main process sets it; web mode has none). */
  setSavePicker(picker: SavePicker | undefined): void {
    this.savePicker = picker;
  }

  // settings: stored per key as JSON; absent keys fall back to DEFAULT_SETTINGS ------------------------------------

  async getSettings(): Promise<SettingsView> {
    const stored = this.stores().settings.getAll();
    const pick = <K extends keyof StudioSettings>(k: K): StudioSettings[K] => (k in stored ? (stored[k] as unknown as StudioSettings[K]) : DEFAULT_SETTINGS[k]);
    return { providers: pick('providers'), threads: pick('threads'), defaultParams: pick('defaultParams'), dataDir: this.dataDir };
  }
  async updateSettings(patch: SettingsPatch): Promise<SettingsView> {
    const values: Record<string, JsonValue | undefined> = {};
    for (const [k, v] of Object.entries(patch)) values[k] = v as JsonValue | undefined;
    this.stores().settings.set(values);
    return this.getSettings();
  }
}

/**
 * The single entry for both transports: unknown method → BAD_REQUEST, arguments validated against the contract,
 * any thrown value → { code, message, details }. Never throws.
 */
export async function invokeApi(api: StudioMethods, method: unknown, args: unknown): Promise<ApiResult<unknown>> {
  try {
    if (!isApiMethod(method)) throw new StudioError('BAD_REQUEST', `Unknown request "${String(method).slice(0, 100)}".`);
    const valid = validateArgs(method, args) as unknown[];
    const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(api, valid);
    return { ok: true, value: value === undefined ? null : value };
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
}


export function createStudioServices(opts: { dataDir: string; mode: TransportMode; engine?: EngineHost }): StudioServices {
  return new StudioServices({ dataDir: opts.dataDir, mode: opts.mode, engine: opts.engine ?? new EngineHost() });
}
