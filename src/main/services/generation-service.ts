/**
 * The generation queue: between the StudioApi and the engine worker (DESIGN.md's first diagram).
 *
 *   enqueue(params) → history record 'queued' (params, noise generator, engine version, cached file hashes)
 *     → FIFO, one job at a time → hash the weight files (in the worker) → markRunning → 'generate' job in the
 *     worker (frames + params.json written atomically into <data>/outputs/<generationId>/) → markDone with the
 *     outputs and per-stage timings | markFailed with the serialised error | markCancelled.
 *
 * Nothing heavy runs here: inference and hashing are engine jobs, so main's event loop only relays messages and
 * writes small SQLite rows. Progress (with small latent-resolution previews) and state changes go out as the
 * StudioApi's onJobProgress / onJobState events. A worker crash fails the running job with ENGINE_CRASHED; the
 * engine host starts a fresh worker for the next job. Jobs are in memory: a queued or running record left by a
 * previous launch is marked 'interrupted' by the store's start-up recovery, never silently resumed.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobStateEvent, JobSummary, StudioEventPayloads } from '../../shared/api';
import type { ControlNetUnit } from '../../shared/domain/controlnet';
import type { GenerationParams, JobStatus, PreviewFrames, StageTimings, StepProgress } from '../../shared/domain/generation';
import type { GenerationHashes, GenerationRecord } from '../../shared/domain/history';
import { StudioError, isStudioError, serializeError, type SerializedError } from '../../shared/errors';
import type { GenerateJobParams, GenerateJobProgress, GenerateJobResult } from '../engine/generate-job';
import {
  CHECK_CONTROL_UNITS_JOB,
  ENGINE_VERSION_JOB,
  GENERATE_JOB,
  HASH_CONTROL_UNITS_JOB,
  type CheckControlUnitsJobParams,
  type EngineVersionJobResult,
  type HashControlUnitsJobResult,
} from '../engine/jobs/job-types';
import type { EngineHost } from './engine-host';
import { FileHashCache, engineHashRunner, type HashRunner } from './generation-hashes';
import type { HistoryService } from './history-service';
import { decodeInput, storeInput } from './generation-input';
import { checkWeightPaths } from './weight-paths';

export type JobEvent = 'onJobProgress' | 'onJobState';
export type JobEventSink = <E extends JobEvent>(event: E, payload: StudioEventPayloads[E]) => void;

export interface GenerationServiceOptions {
  engine: EngineHost;
  history: HistoryService;
  /** The data folder: outputs go to history.outputDirFor(id), compiled graphs to <dataDir>/cache. */
  dataDir: string;
  emit?: JobEventSink;
  /** onnxruntime intra-op threads for the next job (the creator's setting); undefined = onnxruntime's default. */
  threads?: () => number | undefined;
  /** Finished jobs kept in list() for the queue view (newest kept). Default 50. */
  keepFinished?: number;
  /** Hashing, for tests that count it; default: a 'hash-files' job in the engine worker. */
  hashRunner?: HashRunner;
}

export interface EnqueueResult {
  jobId: string;
  generationId: number;
}

/** A job as list() reports it; `preview` is the latest preview (the StudioApi's listJobs leaves it out). */
export interface JobView extends JobSummary {
  generationId: number;
  preview: PreviewFrames | null;
  startedAt: string | null;
  finishedAt: string | null;
}

interface Job {
  jobId: string;
  generationId: number;
  params: GenerationParams;
  queuedAt: string;
  queuedMs: number;
  status: JobStatus;
  progress: StepProgress | null;
  preview: PreviewFrames | null;
  error: SerializedError | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The engine job now working for this job (hashing, then generating), to cancel it. */
  engineJobId: string | null;
  cancelRequested: boolean;
  settled: Promise<JobView>;
  settle(view: JobView): void;
}

const FINISHED: readonly JobStatus[] = ['done', 'failed', 'cancelled', 'interrupted'];

export class GenerationService {
  private readonly engine: EngineHost;
  private readonly history: HistoryService;
  private readonly cacheRoot: string;
  private readonly dataDir: string;
  private readonly emitEvent: JobEventSink;
  private readonly threads: () => number | undefined;
  private readonly keepFinished: number;
  private readonly hashes: FileHashCache;
  /** Every job this service knows, in submission order (finished ones trimmed to keepFinished). */
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private running: Job | undefined;
  private versionInfo: Promise<EngineVersionJobResult> | undefined;
  /** Decode time per frame of the last finished job, to add to the denoise ETA. */
  private decodeMsPerFrame: number | undefined;
  private disposed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: GenerationServiceOptions) {
    this.engine = opts.engine;
    this.history = opts.history;
    this.cacheRoot = join(opts.dataDir, 'cache');
    this.dataDir = opts.dataDir;
    this.emitEvent = opts.emit ?? (() => {});
    this.threads = opts.threads ?? (() => undefined);
    this.keepFinished = opts.keepFinished ?? 50;
    this.hashes = new FileHashCache(opts.hashRunner ?? engineHashRunner(opts.engine));
  }

  // --- queueing ----------------------------------------------------------------------------------------------------

  /** Records a queued generation and puts it at the end of the queue. */
  async enqueue(params: GenerationParams): Promise<EnqueueResult> {
    this.checkOpen();
    // Before anything is recorded: a path that is not a model never reaches the worker or the history.
    checkWeightPaths(params);
    // An image/video input is copied into <data>/inputs under its hash: the record re-runs exactly that file.
    if (params.input) params = { ...params, input: storeInput(params.input, this.dataDir) };
    // A job that cannot fit this machine is refused here, before it is recorded or queued (engine/memory/guard.ts).
    await this.engine.request('memoryCheck', params);
    // ControlNet units: each file an SD1.5 ControlNet, each input decodable with frames enough (worker: it decodes).
    if (params.controlNets?.some((u) => u.enabled !== false)) {
      const check: CheckControlUnitsJobParams = { units: params.controlNets, cacheRoot: this.cacheRoot, clip: params };
      await this.engine.runJob(CHECK_CONTROL_UNITS_JOB, `check-control-${randomUUID()}`, check).result;
    }
    const { engineVersion, noise } = await this.engineVersion();
    // Hashes known from earlier runs go in now; the rest are filled in when the job starts (markRunning).
    const hashes = await this.hashes.forParams(params, { hash: false });
    const rec = await this.history.createGeneration(structuredClone(params), { noise, engineVersion, hashes, origin: 'new' });
    return this.add(rec);
  }

  /**
   * Puts a record that is already 'queued' in the history (made by history.reroll / rerunExact) into the queue,
   * running it with the parameters (and seed) the record holds.
   */
  async enqueueFromHistory(generationId: number): Promise<EnqueueResult> {
    this.checkOpen();
    const rec = await this.history.getGeneration(generationId);
    const existing = [...this.jobs.values()].find((j) => j.generationId === generationId && !FINISHED.includes(j.status));
    if (existing) return { jobId: existing.jobId, generationId };
    if (rec.status !== 'queued') {
      throw new StudioError('BAD_REQUEST', `Generation #${generationId} is ${rec.status}, not queued; re-roll or re-run it to make a new one.`, {
        id: generationId,
        status: rec.status,
      });
    }
    return this.add(rec);
  }

  /** Same parameters, new seed (or the given one): a new history record, queued. */
  async reroll(generationId: number, opts: { seed?: number } = {}): Promise<EnqueueResult> {
    this.checkOpen();
    checkWeightPaths((await this.history.getGeneration(generationId)).params);
    const rec = await this.history.reroll(generationId, opts);
    return this.enqueueFromHistory(rec.id);
  }

  /** Same parameters and seed: a new history record, queued; it gives byte-identical frames. */
  async rerunExact(generationId: number): Promise<EnqueueResult> {
    this.checkOpen();
    checkWeightPaths((await this.history.getGeneration(generationId)).params);
    const rec = await this.history.rerunExact(generationId);
    return this.enqueueFromHistory(rec.id);
  }

  /**
   * Cancels a job. A queued job leaves the queue at once and its record is marked cancelled; a running job is
   * asked to stop (the worker's AbortSignal, honoured within one UNet call) and settles as cancelled with no
   * output folder. A finished job is left as it is.
   */
  async cancel(jobId: string): Promise<void> {
    const job = this.requireJob(jobId);
    if (FINISHED.includes(job.status) || job.cancelRequested) return;
    job.cancelRequested = true;
    const i = this.waiting.indexOf(job);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      await this.finish(job, 'cancelled', null, { queued: Date.now() - job.queuedMs });
      this.wakeIdle();
      return;
    }
    if (job.engineJobId) {
      try {
        this.engine.cancelJob(job.engineJobId);
      } catch {
        // The worker is gone (crash, restart): the job fails or finishes on its own and is then marked cancelled.
      }
    }
    // Otherwise the job is between engine jobs; run() checks cancelRequested before starting the next one.
  }

  // --- reading -----------------------------------------------------------------------------------------------------

  /** Jobs in submission order: finished (most recent keepFinished), running, queued. */
  list(opts: { previews?: boolean } = {}): JobView[] {
    return [...this.jobs.values()].map((j) => this.view(j, opts.previews ?? true));
  }

  /** The StudioApi's listJobs: no preview frames (they travel only in onJobProgress). */
  listSummaries(): JobSummary[] {
    return [...this.jobs.values()].map((j) => {
      const { preview: _p, startedAt: _s, finishedAt: _f, ...summary } = this.view(j, false);
      return summary;
    });
  }

  get(jobId: string): JobView {
    return this.view(this.requireJob(jobId), true);
  }

  /** Resolves with the job's final view once it is done, failed or cancelled. */
  settled(jobId: string): Promise<JobView> {
    return this.requireJob(jobId).settled;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting jobs, cancels queued and running ones and waits (bounded) for the running one to settle. */
  async dispose(timeoutMs = 10_000): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const job of [...this.waiting]) await this.cancel(job.jobId);
    const running = this.running;
    if (running) {
      await this.cancel(running.jobId);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([running.settled, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
  }

  // --- the runner --------------------------------------------------------------------------------------------------

  private add(rec: GenerationRecord): EnqueueResult {
    let settle!: (v: JobView) => void;
    const settled = new Promise<JobView>((r) => (settle = r));
    const now = new Date();
    const job: Job = {
      jobId: randomUUID(),
      generationId: rec.id,
      params: rec.params,
      queuedAt: now.toISOString(),
      queuedMs: now.getTime(),
      status: 'queued',
      progress: null,
      preview: null,
      error: null,
      startedAt: null,
      finishedAt: null,
      engineJobId: null,
      cancelRequested: false,
      settled,
      settle,
    };
    this.jobs.set(job.jobId, job);
    this.waiting.push(job);
    this.emitState(job);
    this.pump();
    return { jobId: job.jobId, generationId: job.generationId };
  }

  /** Starts the next queued job if none is running. */
  private pump(): void {
    if (this.running) return;
    const next = this.waiting.shift();
    if (!next) {
      this.wakeIdle();
      return;
    }
    this.running = next;
    void this.run(next).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  private async run(job: Job): Promise<void> {
    const timings: StageTimings = { queued: Date.now() - job.queuedMs };
    const outDir = this.history.outputDirFor(job.generationId);
    const t0 = performance.now();
    let inputDir: string | undefined;
    // The decoded input is scratch: gone before the job settles, whatever happened.
    const dropInput = (): Promise<void> => (inputDir ? rm(inputDir, { recursive: true, force: true }).catch(() => undefined) : Promise.resolve());
    try {
      // 1. Hash the weight files (worker; cached by path + mtime + size), then record the run as started.
      job.status = 'running';
      job.startedAt = new Date().toISOString();
      this.emitState(job);
      let hashes: GenerationHashes | undefined;
      if (hasFiles(job.params)) {
        this.setProgress(job, { jobId: job.jobId, stage: 'compile', step: 0, totalSteps: 1, elapsedMs: 0, message: 'Checking the model files' });
        const tHash = performance.now();
        job.engineJobId = `${job.jobId}:hash`;
        hashes = await this.hashes.forParams(job.params, { hash: true, jobId: job.engineJobId });
        timings.hash = round(performance.now() - tHash);
      }
      // ControlNet units: file and input hashes (worker; the CLI runs the same hashControlUnits) into the record.
      let controlNets: ControlNetUnit[] | undefined;
      if (job.params.controlNets?.length && !job.cancelRequested) {
        job.engineJobId = `${job.jobId}:hash-control`;
        controlNets = (await this.engine.runJob<HashControlUnitsJobResult>(HASH_CONTROL_UNITS_JOB, job.engineJobId, { units: job.params.controlNets }).result).units;
        job.params = { ...job.params, controlNets };
      }
      if (job.cancelRequested) throw new StudioError('CANCELLED', 'Cancelled.');
      const { engineVersion } = await this.engineVersion();
      await this.history.markRunning(job.generationId, { engineVersion, hashes, controlNets });

      // 2. Generate in the worker; frames land in outDir only when complete.
      if (job.cancelRequested) throw new StudioError('CANCELLED', 'Cancelled.');
      // The input is decoded here (ffmpeg is the main process's decoder) into PNGs the worker reads.
      let inputFrames: string[] | undefined;
      if (job.params.input) {
        inputDir = join(this.cacheRoot, 'decoded-inputs', job.jobId);
        inputFrames = await decodeInput(job.params, inputDir);
      }
      const params: GenerateJobParams = { params: job.params, outDir, cacheRoot: this.cacheRoot, intraOpThreads: this.threads(), inputFrames };
      job.engineJobId = job.jobId;
      const engineJob = this.engine.runJob<GenerateJobResult, GenerateJobProgress>(GENERATE_JOB, job.jobId, params, (p) => this.onEngineProgress(job, p));
      const result = await engineJob.result;
      job.engineJobId = null;
      await dropInput();
      if (job.cancelRequested) throw new StudioError('CANCELLED', 'Cancelled.');

      // 3. Record the outputs (they exist: generate() renamed the finished folder into place).
      Object.assign(timings, result.timings, { run: round(performance.now() - t0) });
      if (result.frameCount > 0 && timings.decode !== undefined) this.decodeMsPerFrame = timings.decode / result.frameCount;
      await this.history.markDone(job.generationId, { framesDir: result.outDir, frameCount: result.frameCount, videos: [], thumbnail: null }, timings, result.ranOn);
      await this.finish(job, 'done', null, timings);
    } catch (e) {
      job.engineJobId = null;
      timings.run = round(performance.now() - t0);
      // Whatever happened, no output folder outlives a job that did not finish (e.g. cancelled just after the rename).
      await rm(outDir, { recursive: true, force: true }).catch(() => undefined);
      await dropInput();
      const cancelled = job.cancelRequested || (isStudioError(e) && e.code === 'CANCELLED');
      if (cancelled) await this.finish(job, 'cancelled', null, timings);
      else await this.finish(job, 'failed', this.describeFailure(e), timings);
    }
  }

  private describeFailure(e: unknown): SerializedError {
    // The host fails every job with INTERNAL when the worker process exits; say what that means for the creator.
    if (this.engine.status.state === 'failed' && isStudioError(e) && e.code === 'INTERNAL' && /engine stopped/i.test(e.message)) {
      return new StudioError(
        'ENGINE_CRASHED',
        `The engine stopped while generating (${e.message.replace(/^.*\(|\)\.?$/g, '')}). This clip was not made; the engine restarts for the next job. If it happens again, try a smaller size or fewer frames.`,
        { cause: e.toJSON() },
      ).toJSON();
    }
    return serializeError(e);
  }

  /** Marks the record and the job finished, emits the state, releases waiters. Never throws. */
  private async finish(job: Job, status: 'done' | 'failed' | 'cancelled', error: SerializedError | null, timings: StageTimings): Promise<void> {
    try {
      if (status === 'failed') await this.history.markFailed(job.generationId, error, timings);
      else if (status === 'cancelled') await this.history.markCancelled(job.generationId, timings);
    } catch (e) {
      // The row could not be updated (e.g. the database went read-only): the job still ends, with that error.
      status = 'failed';
      error = serializeError(e);
    }
    job.status = status;
    job.error = error;
    job.finishedAt = new Date().toISOString();
    this.emitState(job);
    job.settle(this.view(job, true));
    this.trimFinished();
  }

  private onEngineProgress(job: Job, p: GenerateJobProgress): void {
    // The compile event's internals stay on main; the wire carries the StepProgress contract only.
    const { compile: _compile, ...step } = p;
    const progress: StepProgress = { ...step, jobId: job.jobId };
    if (progress.stage === 'denoise' && progress.etaMs !== undefined && this.decodeMsPerFrame !== undefined) {
      // Time remaining for the whole clip, not just the denoise loop: decoding is the next long stage.
      progress.etaMs = Math.round(progress.etaMs + this.decodeMsPerFrame * job.params.frames);
    }
    this.setProgress(job, progress);
  }

  private setProgress(job: Job, progress: StepProgress): void {
    if (progress.preview) job.preview = progress.preview;
    const { preview: _preview, ...rest } = progress;
    job.progress = rest;
    this.emitEvent('onJobProgress', progress);
  }

  private emitState(job: Job): void {
    const e: JobStateEvent = { jobId: job.jobId, status: job.status, generationId: job.generationId };
    if (job.error) e.error = job.error;
    this.emitEvent('onJobState', e);
  }

  private view(j: Job, withPreview: boolean): JobView {
    return {
      jobId: j.jobId,
      status: j.status,
      generationId: j.generationId,
      params: j.params,
      queuedAt: j.queuedAt,
      progress: j.progress,
      error: j.error,
      preview: withPreview ? j.preview : null,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
    };
  }

  private trimFinished(): void {
    const finished = [...this.jobs.values()].filter((j) => FINISHED.includes(j.status));
    for (const j of finished.slice(0, Math.max(0, finished.length - this.keepFinished))) this.jobs.delete(j.jobId);
  }

  private wakeIdle(): void {
    if (this.running || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private engineVersion(): Promise<EngineVersionJobResult> {
    if (!this.versionInfo) {
      const ask = this.engine.runJob<EngineVersionJobResult>(ENGINE_VERSION_JOB, `engine-version-${randomUUID()}`, {}).result;
      // A failed ask (engine could not start) is retried next time rather than remembered.
      this.versionInfo = ask.catch((e: unknown) => {
        this.versionInfo = undefined;
        throw e;
      });
    }
    return this.versionInfo;
  }

  private requireJob(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new StudioError('NOT_FOUND', `There is no job ${jobId} (it may have finished long ago).`, { jobId });
    return job;
  }

  private checkOpen(): void {
    if (this.disposed) throw new StudioError('INTERNAL', 'The studio is shutting down; no new generations are accepted.');
  }
}

function hasFiles(p: GenerationParams): boolean {
  return Boolean(p.model || p.motion || p.lcmLora || p.loras.length > 0);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
