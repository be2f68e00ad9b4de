/**
 * The object behind the StudioApi: each method delegates to the service that owns the concept (engine host,
 * generation queue, library, history, timeline, export, settings). Both transports (Electron IPC in
 * src/main/electron/ipc-server.ts, the WebSocket in src/main/web/server.ts) call `invokeApi`, the one place that
 * checks the method name, validates the arguments and turns any failure into a serialised error.
 *
 * A concept whose service is not written yet answers StudioError('INTERNAL', '… not available yet') — never
 * invented data — so the UI can show an honest message while the rest of the studio works.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { version as packageVersion } from '../../../package.json';
import { isApiMethod, type ApiEvent, type ApiResult, type EngineInfo, type StudioEventPayloads, type StudioMethods, type TransportMode } from '../../shared/api';
import { validateArgs } from '../../shared/api-validation';
import { StudioError, serializeError } from '../../shared/errors';
import { dataLayout } from '../store/layout';
import { EngineHost } from './engine-host';

export const APP_VERSION: string = packageVersion;

export type EventSink = <E extends ApiEvent>(event: E, payload: StudioEventPayloads[E]) => void;

export interface StudioServicesOptions {
  dataDir: string;
  mode: TransportMode;
  engine: EngineHost;
}

function notAvailable(what: string): never {
  throw new StudioError('INTERNAL', `${what} is not available yet.`, { feature: what });
}

export class StudioServices implements StudioMethods {
  readonly dataDir: string;
  readonly mode: TransportMode;
  readonly engine: EngineHost;
  private readonly sinks = new Set<EventSink>();
  private readonly unhook: () => void;

  constructor(opts: StudioServicesOptions) {
    this.dataDir = opts.dataDir;
    this.mode = opts.mode;
    this.engine = opts.engine;
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

  /** Folders whose files the media protocol / route may serve: the studio's own outputs, exports and library. */
  mediaRoots(): string[] {
    const l = dataLayout(this.dataDir);
    return [l.outputs, l.exports, l.library];
  }

  async close(): Promise<void> {
    this.unhook();
    this.sinks.clear();
    await this.engine.dispose();
  }

  // engine ---------------------------------------------------------------------------------------------------------

  async getEngineInfo(): Promise<EngineInfo> {
    // Asked inside the worker: what onnxruntime sees there is what generation will get.
    const info = await this.engine.request('info', {});
    return { onnxruntimeVersion: info.onnxruntimeVersion, providers: info.providers, appVersion: APP_VERSION, mode: this.mode };
  }

  // generation -----------------------------------------------------------------------------------------------------

  async generate(): Promise<never> {
    notAvailable('Generation');
  }
  async cancelJob(): Promise<never> {
    notAvailable('The generation queue');
  }
  async listJobs(): Promise<never> {
    notAvailable('The generation queue');
  }

  // library --------------------------------------------------------------------------------------------------------

  async listModels(): Promise<never> {
    notAvailable('The model library');
  }
  async listLoras(): Promise<never> {
    notAvailable('The LoRA library');
  }
  async importFile(): Promise<never> {
    notAvailable('Importing into the library');
  }
  async removeItem(): Promise<never> {
    notAvailable('The library');
  }
  async updateItem(): Promise<never> {
    notAvailable('The library');
  }
  async refreshLibrary(): Promise<never> {
    notAvailable('The library');
  }

  // history --------------------------------------------------------------------------------------------------------

  async listGenerations(): Promise<never> {
    notAvailable('The history');
  }
  async getGeneration(): Promise<never> {
    notAvailable('The history');
  }
  async reroll(): Promise<never> {
    notAvailable('Re-roll');
  }
  async rerunExact(): Promise<never> {
    notAvailable('Re-run exact');
  }
  async reuseParams(): Promise<never> {
    notAvailable('Reuse parameters');
  }
  async setFavourite(): Promise<never> {
    notAvailable('The history');
  }
  async deleteGeneration(): Promise<never> {
    notAvailable('The history');
  }

  // timeline -------------------------------------------------------------------------------------------------------

  async listTimelines(): Promise<never> {
    notAvailable('The timeline');
  }
  async getTimeline(): Promise<never> {
    notAvailable('The timeline');
  }
  async createTimeline(): Promise<never> {
    notAvailable('The timeline');
  }
  async renameTimeline(): Promise<never> {
    notAvailable('The timeline');
  }
  async deleteTimeline(): Promise<never> {
    notAvailable('The timeline');
  }
  async addClip(): Promise<never> {
    notAvailable('The timeline');
  }
  async moveClip(): Promise<never> {
    notAvailable('The timeline');
  }
  async trimClip(): Promise<never> {
    notAvailable('The timeline');
  }
  async removeClip(): Promise<never> {
    notAvailable('The timeline');
  }
  async duplicateClip(): Promise<never> {
    notAvailable('The timeline');
  }

  // export ---------------------------------------------------------------------------------------------------------

  async exportClip(): Promise<never> {
    notAvailable('Export');
  }
  async exportTimeline(): Promise<never> {
    notAvailable('Export');
  }
  async cancelExport(): Promise<never> {
    notAvailable('Export');
  }

  // settings -------------------------------------------------------------------------------------------------------

  async getSettings(): Promise<never> {
    notAvailable('Settings');
  }
  async updateSettings(): Promise<never> {
    notAvailable('Settings');
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


/**
 * The data folder: an explicit flag, else ANIMATELCM_DATA_DIR, else the platform's per-user data folder
 * (the Electron shell passes app.getPath('userData') as its fallback instead).
 */
export function resolveDataDir(flag: string | undefined, fallback: string = platformDataDir()): string {
  const chosen = flag ?? process.env.ANIMATELCM_DATA_DIR;
  return resolve(chosen && chosen.length > 0 ? chosen : fallback);
}

function platformDataDir(): string {
  const name = 'AnimateLCM Studio';
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), name);
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', name);
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'animatelcm-studio');
}

export function createStudioServices(opts: { dataDir: string; mode: TransportMode; engine?: EngineHost }): StudioServices {
  return new StudioServices({ dataDir: opts.dataDir, mode: opts.mode, engine: opts.engine ?? new EngineHost() });
}
