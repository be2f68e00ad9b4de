/**
 * The engine host: main's handle on the engine worker (src/main/engine/worker.ts). Inference and other heavy work
 * never run on main's event loop; they run in a separate process, started by a launcher the caller picks:
 * Electron's utilityProcess in the desktop app (src/main/electron/engine-launcher.ts, since only that folder may
 * import electron), a Node child process otherwise (web mode, CLI, tests). A child process rather than a
 * worker thread because a native crash in onnxruntime then costs the job, not the studio.
 *
 * The worker is started lazily on first use and restarted on the next use after it died; everything waiting on a
 * dead worker fails with a clear error.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StudioError, deserializeError } from '../../shared/errors';
import type { EngineStatus } from '../../shared/api';
import type { HostToWorker, WorkerOp, WorkerRequests, WorkerToHost } from '../engine/worker-protocol';

/** Where the worker's code is and how to start it. */
export interface EngineEntry {
  path: string;
  /** Node flags for the worker (the tsx loader when running from source). */
  execArgv: string[];
  fromSource: boolean;
}

/** A running worker as the host sees it, whatever process kind it is. */
export interface EngineChannel {
  send(msg: HostToWorker): void;
  onMessage(listener: (msg: WorkerToHost) => void): void;
  /** Called once when the worker is gone (exit code, or null with a reason when it never started). */
  onExit(listener: (code: number | null, reason: string) => void): void;
  kill(): void;
}

export type EngineLauncher = (entry: EngineEntry) => EngineChannel;

/**
 * Bundled: out/main/engine-worker.js next to this code (electron.vite.config.ts builds it as its own entry, and
 * keeps shared chunks in out/main so this directory is right). From source (tsx, vitest): the .ts entry, run
 * with tsx's loader, because a worker does not inherit the parent's loader hooks.
 */
export function engineWorkerEntry(): EngineEntry {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { path: join(dirname(here), '..', 'engine', 'worker.ts'), execArgv: ['--import', tsxLoader], fromSource: true };
  }
  const bundled = join(dirname(here), 'engine-worker.js');
  if (!existsSync(bundled)) throw new StudioError('INTERNAL', `The engine worker bundle is missing (${bundled}). Rebuild with npm run build.`);
  return { path: bundled, execArgv: [], fromSource: false };
}

/** Plain Node: a child process with structured-clone IPC (typed arrays survive). */
export const childProcessLauncher: EngineLauncher = (entry) => {
  const child = fork(entry.path, [], {
    execArgv: entry.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited = false;
  const exitListeners: ((code: number | null, reason: string) => void)[] = [];
  const exit = (code: number | null, reason: string) => {
    if (exited) return;
    exited = true;
    for (const l of exitListeners) l(code, reason);
  };
  child.on('exit', (code, signal) => exit(code, signal ? `killed by ${signal}` : `exited with code ${code}`));
  child.on('error', (e) => exit(null, e.message));
  return {
    send: (msg) => {
      if (child.connected) child.send(msg);
    },
    onMessage: (l) => child.on('message', (m) => l(m as WorkerToHost)),
    onExit: (l) => exitListeners.push(l),
    kill: () => {
      if (!exited) child.kill();
    },
  };
};

interface Pending {
  resolve(value: unknown): void;
  reject(error: StudioError): void;
}

interface RunningJob extends Pending {
  onProgress(progress: unknown): void;
}

export interface EngineJob<R> {
  jobId: string;
  /** Resolves with the handler's result; rejects with a StudioError (CANCELLED when cancelled). */
  result: Promise<R>;
}

export class EngineHost {
  private channel: EngineChannel | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly jobs = new Map<string, RunningJob>();
  /** Workers leaving after a lost GPU, with the jobs and requests they still had when they were retired. */
  private readonly retired = new Map<EngineChannel, { jobs: string[]; pending: number[] }>();
  private readonly statusListeners = new Set<(s: EngineStatus) => void>();
  private state: EngineStatus = { state: 'stopped', activeJobs: 0 };
  private disposed = false;

  constructor(
    private readonly launcher: EngineLauncher = childProcessLauncher,
    private readonly entry: () => EngineEntry = engineWorkerEntry,
  ) {}

  get status(): EngineStatus {
    return this.state;
  }

  onStatus(listener: (s: EngineStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Starts the worker if it is not running; resolves once it said it is ready. */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new StudioError('INTERNAL', 'The engine has been shut down.'));
    if (this.ready) return this.ready;
    this.setStatus({ state: 'starting', activeJobs: this.jobs.size });
    this.ready = new Promise<void>((resolve, reject) => {
      let channel: EngineChannel;
      try {
        channel = this.launcher(this.entry());
      } catch (e) {
        this.ready = undefined;
        const err = e instanceof StudioError ? e : new StudioError('INTERNAL', `The engine could not start: ${String(e)}`);
        this.setStatus({ state: 'failed', activeJobs: 0, error: err.toJSON() });
        reject(err);
        return;
      }
      this.channel = channel;
      channel.onMessage((msg) => {
        if (msg.type === 'ready') {
          this.setStatus({ state: this.jobs.size > 0 ? 'busy' : 'ready', activeJobs: this.jobs.size });
          resolve();
        } else this.dispatch(msg);
      });
      channel.onExit((code, reason) => {
        const error = new StudioError('INTERNAL', `The engine stopped unexpectedly (${reason}).`, { code });
        const leaving = this.retired.get(channel);
        if (leaving) {
          // Its exit was expected; only what it still held fails, the jobs on the fresh worker go on.
          this.retired.delete(channel);
          for (const id of leaving.pending) this.pending.get(id)?.reject(error);
          for (const id of leaving.pending) this.pending.delete(id);
          for (const id of leaving.jobs) this.settleJob(id, error);
          return;
        }
        if (this.channel === channel) {
          this.channel = undefined;
          this.ready = undefined;
        }
        reject(error);
        this.failAll(error);
        this.setStatus(this.disposed ? { state: 'stopped', activeJobs: 0 } : { state: 'failed', activeJobs: 0, error: error.toJSON() });
      });
    });
    return this.ready;
  }

  /** Asks the worker a short question (see WorkerRequests). */
  async request<O extends WorkerOp>(op: O, params: WorkerRequests[O]['params']): Promise<WorkerRequests[O]['value']> {
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        this.send({ type: 'request', id, op, params } as HostToWorker);
      } catch (e) {
        this.pending.delete(id);
        reject(asStudioError(e));
      }
    });
  }

  /** Starts a job in the worker. Progress messages go to `onProgress` in order; the result settles once. */
  runJob<R = unknown, P = unknown>(kind: string, jobId: string, params: unknown, onProgress: (progress: P) => void = () => {}): EngineJob<R> {
    if (this.jobs.has(jobId)) throw new StudioError('BAD_REQUEST', `A job with id ${jobId} is already running.`);
    const result = new Promise<R>((resolve, reject) => {
      this.jobs.set(jobId, { resolve: resolve as (v: unknown) => void, reject, onProgress: onProgress as (p: unknown) => void });
    });
    this.setStatus({ state: 'busy', activeJobs: this.jobs.size });
    this.start()
      .then(() => this.send({ type: 'job:start', jobId, kind, params }))
      .catch((e: unknown) => this.settleJob(jobId, asStudioError(e)));
    return { jobId, result };
  }

  /** Asks the worker to stop a job; its result then rejects with CANCELLED. Unknown ids are ignored. */
  cancelJob(jobId: string): boolean {
    if (!this.jobs.has(jobId)) return false;
    this.send({ type: 'job:cancel', jobId });
    return true;
  }

  /** Stops the worker; pending requests and jobs fail. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const channel = this.channel;
    if (!channel) {
      this.setStatus({ state: 'stopped', activeJobs: 0 });
      return;
    }
    const gone = new Promise<void>((resolve) => channel.onExit(() => resolve()));
    channel.send({ type: 'shutdown' });
    const timer = setTimeout(() => channel.kill(), 2000);
    await gone;
    clearTimeout(timer);
  }

  private send(msg: HostToWorker): void {
    if (!this.channel) throw new StudioError('INTERNAL', 'The engine is not running.');
    this.channel.send(msg);
  }

  private dispatch(msg: WorkerToHost): void {
    switch (msg.type) {
      case 'response': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(deserializeError(msg.error));
        return;
      }
      case 'job:progress':
        this.jobs.get(msg.jobId)?.onProgress(msg.progress);
        return;
      case 'job:result':
        this.settleJob(msg.jobId, undefined, msg.result);
        return;
      case 'job:error': {
        const error = deserializeError(msg.error);
        this.settleJob(msg.jobId, error);
        // After a lost GPU the worker exits (worker.ts): the next job must start a fresh one, not reach the leaving one.
        if (error.code === 'DEVICE_LOST') this.retire();
        return;
      }
      case 'ready':
        return;
    }
  }

  /** Lets the current worker go: later requests and jobs start a new one; its exit fails only what it still held. */
  private retire(): void {
    const channel = this.channel;
    if (!channel) return;
    this.retired.set(channel, { jobs: [...this.jobs.keys()], pending: [...this.pending.keys()] });
    this.channel = undefined;
    this.ready = undefined;
  }

  private settleJob(jobId: string, error: StudioError | undefined, result?: unknown): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.delete(jobId);
    if (error) job.reject(error);
    else job.resolve(result);
    if (this.state.state === 'busy' || this.state.state === 'ready')
      this.setStatus({ state: this.jobs.size > 0 ? 'busy' : 'ready', activeJobs: this.jobs.size });
  }

  private failAll(error: StudioError): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const j of this.jobs.values()) j.reject(error);
    this.jobs.clear();
  }

  private setStatus(s: EngineStatus): void {
    this.state = s;
    for (const l of this.statusListeners) l(s);
  }
}

function asStudioError(e: unknown): StudioError {
  return e instanceof StudioError ? e : new StudioError('INTERNAL', e instanceof Error ? e.message : String(e));
}
