/**
 * Messages between the engine host (main process, src/main/services/engine-host.ts) and the engine worker
 * (src/main/engine/worker.ts). Plain structured-clone data only, so the same protocol runs over an Electron
 * utilityProcess port, a Node child process ('advanced' serialisation) or a worker_threads port.
 *
 * Requests are short questions answered once (`ping`, `info`, `memoryCheck`). Jobs are long: started, then any number of
 * `job:progress`, then exactly one `job:result` or `job:error` (a cancelled job ends with job:error CANCELLED).
 */
import type { SerializedError } from '../../shared/errors';
import type { GenerationParams } from '../../shared/domain/generation';
import type { MemoryFigures } from './memory/guard';
import type { EngineInfo } from './runtime/info';

/** Request operations and what each answers. */
export interface WorkerRequests {
  ping: { params: Record<string, never>; value: { pid: number; uptimeMs: number } };
  info: { params: { refresh?: boolean }; value: EngineInfo };
  /** The job guard (memory/guard.ts): answers the estimate, or fails MEMORY_INSUFFICIENT. */
  memoryCheck: { params: GenerationParams; value: MemoryFigures | undefined };
}
export type WorkerOp = keyof WorkerRequests;

export type HostToWorker =
  | { [O in WorkerOp]: { type: 'request'; id: number; op: O; params: WorkerRequests[O]['params'] } }[WorkerOp]
  | { type: 'job:start'; jobId: string; kind: string; params: unknown }
  | { type: 'job:cancel'; jobId: string }
  | { type: 'shutdown' };

export type WorkerToHost =
  | { type: 'ready'; pid: number }
  | { type: 'response'; id: number; ok: true; value: unknown }
  | { type: 'response'; id: number; ok: false; error: SerializedError }
  | { type: 'job:progress'; jobId: string; progress: unknown }
  | { type: 'job:result'; jobId: string; result: unknown }
  | { type: 'job:error'; jobId: string; error: SerializedError };

/** What a job handler gets besides its parameters. */
export interface JobContext {
  jobId: string;
  /** Aborted when the host cancels the job; handlers check it between steps and throw (AbortError or CANCELLED). */
  signal: AbortSignal;
  /** Sends a progress message to the host (structured-clone data: typed arrays travel efficiently). */
  progress(progress: unknown): void;
}

export type JobHandler<P = unknown, R = unknown> = (params: P, ctx: JobContext) => Promise<R>;
