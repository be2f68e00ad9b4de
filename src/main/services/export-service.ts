/**
 * ExportService: maps what the studio names (a history record, a timeline) onto an ExportSource, runs exports
 * as jobs with ids, forwards their progress as `onExportProgress` events and cancels them by id.
 *
 * It reads records through `ExportLookup`, which HistoryService and TimelineService satisfy as they are
 * (`getGeneration`, `getTimeline`, both throwing NOT_FOUND); `storeLookup(db)` wires them over an open database.
 * The maths of export lives in src/main/export.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExportOptions as ApiExportOptions, ExportProgressEvent, ExportRef } from '../../shared/api';
import type { ExportClip, ExportOptions, ExportProgress, ExportQuality, ExportResult, ExportSource } from '../../shared/domain/export';
import type { GenerationParams } from '../../shared/domain/generation';
import type { GenerationRecord } from '../../shared/domain/history';
import type { Timeline } from '../../shared/domain/timeline';
import { StudioError, serializeError } from '../../shared/errors';
import { exportClip } from '../export/exporter';
import type { FfmpegTools } from '../export/ffmpeg-locate';
import type { StudioDatabase } from '../store/database';
import { dataLayout } from '../store/layout';
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
    clips.push({ dir: framesDirOf(r), fps: c.source.fps, inFrame: c.inFrame, outFrame: c.outFrame, speed: c.speed, crossfade: c.crossfade, params: paramsForRecord(r) });
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
  out: string;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

export class ExportService {
  private readonly jobs = new Map<string, AbortController>();
  private nextId = 1;

  constructor(private readonly opts: ExportServiceOptions) {}

  /** Default destination: the data folder's exports/, named after what is exported. */
  defaultOutput(stem: string, format: ExportOptions['format']): string {
    const dir = dataLayout(this.opts.dataDir).exports;
    return join(dir, format === 'png' ? `${stem}-frames` : `${stem}.${format}`);
  }

  /** Run one export to completion (the CLI awaits this; the API uses `start`). */
  async run(job: ExportJobRun): Promise<ExportResult> {
    const out = resolve(job.out);
    if (out.startsWith(resolve(dataLayout(this.opts.dataDir).exports))) await mkdir(dataLayout(this.opts.dataDir).exports, { recursive: true });
    return exportClip(job.source, job.options, { out, signal: job.signal, onProgress: job.onProgress, tools: this.opts.tools });
  }

  async generationJob(id: number, options: ExportOptions, out?: string): Promise<{ source: ExportSource; out: string }> {
    return { source: await sourceForGeneration(this.opts.lookup, id), out: out ?? this.defaultOutput(`generation-${id}`, options.format) };
  }

  async timelineJob(id: number, options: ExportOptions, out?: string): Promise<{ source: ExportSource; out: string }> {
    return { source: await sourceForTimeline(this.opts.lookup, id), out: out ?? this.defaultOutput(`timeline-${id}`, options.format) };
  }

  // StudioMethods-shaped entry points: start a job, answer at once with its id, report through `emit`.

  async exportClip(generationId: number, options: ApiExportOptions): Promise<ExportRef> {
    const o = fromApiOptions(options);
    const { source, out } = await this.generationJob(generationId, o, options.outputPath);
    return this.start(source, o, out);
  }

  async exportTimeline(timelineId: number, options: ApiExportOptions): Promise<ExportRef> {
    const o = fromApiOptions(options);
    const { source, out } = await this.timelineJob(timelineId, o, options.outputPath);
    return this.start(source, o, out);
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

  private start(source: ExportSource, options: ExportOptions, out: string): ExportRef {
    const exportId = `export-${this.nextId++}`;
    const controller = new AbortController();
    this.jobs.set(exportId, controller);
    const emit = (e: Omit<ExportProgressEvent, 'exportId'>) => this.opts.emit?.({ exportId, ...e });
    emit({ status: 'queued', fraction: 0 });
    void this.run({
      source,
      options,
      out,
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
