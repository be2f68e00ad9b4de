/**
 * ExportService: maps what the studio names (a history record, a timeline) onto an ExportSource, runs exports
 * as jobs with ids, forwards their progress as `onExportProgress` events and cancels them by id.
 *
 * It reads records through `ExportLookup`, which HistoryService and TimelineService satisfy as they are
 * (`getGeneration`, `getTimeline`, both throwing NOT_FOUND); `storeLookup(db)` wires them over an open database.
 * The maths of export lives in src/main/export.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { ExportOptions as ApiExportOptions, ExportProgressEvent, ExportRef } from '../../shared/api';
import type { ExportClip, ExportOptions, ExportProgress, ExportQuality, ExportResult, ExportSource } from '../../shared/domain/export';
import type { GenerationParams } from '../../shared/domain/generation';
import type { GenerationRecord } from '../../shared/domain/history';
import type { Timeline } from '../../shared/domain/timeline';
import { StudioError, serializeError } from '../../shared/errors';
import { isTaken } from '../export/destination';
import { exportClip } from '../export/exporter';
import type { FfmpegTools } from '../export/ffmpeg-locate';
import type { StudioDatabase } from '../store/database';
import { dataLayout, isInside } from '../store/layout';
import { recordTempPlace } from '../store/temp-places';
import { HistoryService } from './history-service';
import { TimelineService } from './timeline-service';

/** What export needs from the history and the timelines; both throw NOT_FOUND for an unknown id. */
export interface ExportLookup {
  getGeneration(id: number): Promise<GenerationRecord>;
  getTimeline(id: number): Promise<Timeline>;
}

/** The lookup over an open studio database, through the history and timeline services. */
export function storeLookup(db: StudioDatabase): ExportLookup {
  const history = new HistoryService(db);
  const timelines = new TimelineService(db);
  return { getGeneration: (id) => history.getGeneration(id), getTimeline: (id) => timelines.getTimeline(id) };
}

/**
 * The parameters to embed for a record: its GenerationParams plus the hashes the history knows (LoRA SHA-256s
 * filled in, the checkpoint's as `modelHash`, so the A1111 line carries "Model hash" as other tools expect).
 */
export function paramsForRecord(r: GenerationRecord): GenerationParams {
  const loras = r.params.loras.map((l, i) => (l.sha256 || !r.hashes.loras[i] ? l : { ...l, sha256: r.hashes.loras[i] ?? undefined }));
  const p: GenerationParams & { modelHash?: string; motionHash?: string } = { ...r.params, loras };
  if (r.hashes.model) p.modelHash = r.hashes.model;
  if (r.hashes.motion) p.motionHash = r.hashes.motion;
  return p;
}

function framesDirOf(r: GenerationRecord): string {
  if (r.status !== 'done' || !r.outputs?.framesDir) {
    throw new StudioError(
      'EXPORT_INVALID',
      r.status === 'done'
        ? `Generation #${r.id} kept no frames to export.`
        : `Generation #${r.id} is ${r.status}; only finished generations can be exported.`,
      { id: r.id, status: r.status },
    );
  }
  return r.outputs.framesDir;
}

export async function sourceForGeneration(lookup: ExportLookup, id: number): Promise<ExportSource> {
  const r = await lookup.getGeneration(id);
  return { kind: 'frames', dir: framesDirOf(r), fps: r.params.fps, params: paramsForRecord(r) };
}

/** Timeline clips in order, each with its trim and speed; the embedded parameters are the first clip's. */
export async function sourceForTimeline(lookup: ExportLookup, id: number): Promise<ExportSource> {
  const t = await lookup.getTimeline(id);
  if (t.clips.length === 0) throw new StudioError('EXPORT_INVALID', `Timeline "${t.name}" has no clips to export.`, { id });
  const clips: ExportClip[] = [];
  for (const c of [...t.clips].sort((a, b) => a.position - b.position)) {
    const r = await lookup.getGeneration(c.generationId);
    clips.push({ dir: framesDirOf(r), fps: c.source.fps, inFrame: c.inFrame, outFrame: c.outFrame, speed: c.speed, params: paramsForRecord(r) });
  }
  return { kind: 'sequence', clips };
}

/** The API's 0–100 quality slider onto the presets. */
export function qualityPreset(q: number | undefined): ExportQuality | undefined {
  if (q === undefined) return undefined;
  if (q >= 90) return 'max';
  if (q >= 65) return 'high';
  if (q >= 35) return 'medium';
  return 'low';
}

export function fromApiOptions(o: ApiExportOptions): ExportOptions {
  const out: ExportOptions = { format: o.format };
  if (o.fps !== undefined) out.fps = o.fps;
  const quality = qualityPreset(o.quality);
  if (quality) out.quality = quality;
  if (o.width !== undefined || o.height !== undefined) out.scale = { width: o.width ?? 0, height: o.height ?? 0 };
  return out;
}

export interface ExportServiceOptions {
  dataDir: string;
  lookup: ExportLookup;
  /** Receives every progress/state change (the services forward it as onExportProgress). */
  emit?: (e: ExportProgressEvent) => void;
  tools?: FfmpegTools;
}

export interface ExportJobRun {
  source: ExportSource;
  options: ExportOptions;
  /** Absolute; inside the data folder only under exports/. */
  out: string;
  /** Replace an existing file at `out` (never a folder). */
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

export class ExportService {
  private readonly jobs = new Map<string, AbortController>();
  private nextId = 1;

  constructor(private readonly opts: ExportServiceOptions) {}

  /**
   * Default destination: the data folder's exports/, named after what is exported, with a number added when
   * that name is taken, so exporting again never replaces an earlier export.
   */
  async defaultOutput(stem: string, format: ExportOptions['format']): Promise<string> {
    const dir = dataLayout(this.opts.dataDir).exports;
    const named = (n: number) => join(dir, `${stem}${format === 'png' ? '-frames' : ''}${n > 1 ? `-${n}` : ''}${format === 'png' ? '' : `.${format}`}`);
    for (let n = 1; ; n++) if (!(await isTaken(named(n)))) return named(n);
  }

  /** `name` under exports/ (web mode names files there: a browser cannot name a path on the server). */
  namedOutput(name: string, format: ExportOptions['format']): string {
    // Also the characters Windows forbids, so a name works wherever the data folder is moved.
    if (/[/\\<>:"|?*\u0000-\u001f]/.test(name) || name.startsWith('.') || name.trim() !== name || name.length === 0) {
      throw new StudioError('EXPORT_INVALID', `"${name}" is not a file name: leave out folders, the characters < > : " | ? * and a leading dot.`, { name });
    }
    const file = format === 'png' || name.toLowerCase().endsWith(`.${format}`) ? name : `${name}.${format}`;
    return join(dataLayout(this.opts.dataDir).exports, file);
  }

  /**
   * Inside the data folder only exports/ may receive an export: everything else there (the database and its
   * journal, outputs/, the cache) belongs to the studio. Symbolic links are followed so a link cannot reach in.
   */
  private async checkTarget(out: string): Promise<void> {
    if (!isAbsolute(out)) return; // the exporter refuses it with its own message
    const layout = dataLayout(this.opts.dataDir);
    const [data, exportsDir, target] = await Promise.all([realTarget(layout.root), realTarget(layout.exports), realTarget(out)]);
    if (isInside(data, target) && (target === exportsDir || !isInside(exportsDir, target))) {
      throw new StudioError(
        'EXPORT_INVALID',
        `${out} is inside the studio's data folder, which holds its database and generations. Export to its exports/ folder or anywhere outside it.`,
        { path: out, dataDir: layout.root },
      );
    }
  }

  /** Run one export to completion (the CLI awaits this; the API uses `start`). */
  async run(job: ExportJobRun): Promise<ExportResult> {
    await this.checkTarget(job.out);
    const exportsDir = dataLayout(this.opts.dataDir).exports;
    if (isAbsolute(job.out) && isInside(exportsDir, job.out)) await mkdir(exportsDir, { recursive: true });
    // The temporary beside a destination outside the data folder is recorded, so a killed export's is swept at the next start.
    const release = recordTempPlace(this.opts.dataDir, dirname(job.out));
    try {
      return await exportClip(job.source, job.options, { out: job.out, overwrite: job.overwrite, signal: job.signal, onProgress: job.onProgress, tools: this.opts.tools });
    } finally {
      release();
    }
  }

  async generationJob(id: number, options: ExportOptions, out?: string): Promise<{ source: ExportSource; out: string }> {
    return { source: await sourceForGeneration(this.opts.lookup, id), out: out ?? (await this.defaultOutput(`generation-${id}`, options.format)) };
  }

  async timelineJob(id: number, options: ExportOptions, out?: string): Promise<{ source: ExportSource; out: string }> {
    return { source: await sourceForTimeline(this.opts.lookup, id), out: out ?? (await this.defaultOutput(`timeline-${id}`, options.format)) };
  }

  /** The API's destination: a path (desktop save dialog), a name under exports/ (web mode), or a free default. */
  private apiOutput(o: ApiExportOptions): string | undefined {
    if (o.outputPath !== undefined && o.name !== undefined) throw new StudioError('EXPORT_INVALID', 'Give either a path or a name to export to, not both.');
    return o.name !== undefined ? this.namedOutput(o.name, o.format) : o.outputPath;
  }

  // StudioMethods-shaped entry points: start a job, answer at once with its id, report through `emit`.

  async exportClip(generationId: number, options: ApiExportOptions): Promise<ExportRef> {
    const o = fromApiOptions(options);
    const { source, out } = await this.generationJob(generationId, o, this.apiOutput(options));
    return this.start({ source, options: o, out, overwrite: options.overwrite });
  }

  async exportTimeline(timelineId: number, options: ApiExportOptions): Promise<ExportRef> {
    const o = fromApiOptions(options);
    const { source, out } = await this.timelineJob(timelineId, o, this.apiOutput(options));
    return this.start({ source, options: o, out, overwrite: options.overwrite });
  }

  async cancelExport(exportId: string): Promise<void> {
    const c = this.jobs.get(exportId);
    if (!c) throw new StudioError('NOT_FOUND', `There is no running export ${exportId}.`, { exportId });
    c.abort();
  }

  /** Cancel every running export (app shutdown). */
  cancelAll(): void {
    for (const c of this.jobs.values()) c.abort();
  }

  private start(job: Omit<ExportJobRun, 'signal' | 'onProgress'>): ExportRef {
    const exportId = `export-${this.nextId++}`;
    const controller = new AbortController();
    this.jobs.set(exportId, controller);
    const emit = (e: Omit<ExportProgressEvent, 'exportId'>) => this.opts.emit?.({ exportId, ...e });
    emit({ status: 'queued', fraction: 0 });
    void this.run({
      ...job,
      signal: controller.signal,
      onProgress: (p) => {
        if (!p.done) emit({ status: 'running', fraction: p.fraction });
      },
    }).then(
      (r) => emit({ status: 'done', fraction: 1, outputPath: r.path }),
      (e: unknown) => {
        const err = serializeError(e);
        emit(err.code === 'CANCELLED' ? { status: 'cancelled', fraction: 0 } : { status: 'failed', fraction: 0, error: err });
      },
    ).finally(() => this.jobs.delete(exportId));
    return { exportId };
  }
}

/** The real path of `p` (links resolved) even when its last parts do not exist yet. */
async function realTarget(p: string): Promise<string> {
  const rest: string[] = [];
  for (let head = p; ; head = dirname(head)) {
    try {
      return join(await realpath(head), ...rest);
    } catch {
      if (dirname(head) === head) return p;
      rest.unshift(basename(head));
    }
  }
}
