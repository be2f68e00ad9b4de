/**
 * The engine worker's entry: a message loop that answers requests and runs jobs, started by the engine host as
 * an Electron utilityProcess (desktop app), a Node child process (web mode, CLI), or a worker_threads worker.
 * Inference runs here so the main process's event loop (IPC, window, WebSocket) never stalls.
 *
 * Bundled as out/main/engine-worker.js; from source it runs under tsx (see engine-host.ts).
 */
import { parentPort as threadPort } from 'node:worker_threads';
import { serializeError, StudioError } from '../../shared/errors';
import { checkParamsMemory } from './memory/guard';
import { runnableProviders } from './generate';
import { engineInfo } from './runtime/info';
import { JOB_HANDLERS } from './worker-jobs';
import type { HostToWorker, WorkerRequests, WorkerToHost } from './worker-protocol';

interface Port {
  post(msg: WorkerToHost): void;
  listen(onMessage: (msg: HostToWorker) => void): void;
}

/** Electron gives a utility process `process.parentPort` (messages arrive as `{ data }`). */
interface ElectronParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

function connect(): Port {
  const electronPort = (process as NodeJS.Process & { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      post: (m) => electronPort.postMessage(m),
      listen: (cb) => electronPort.on('message', (e) => cb(e.data as HostToWorker)),
    };
  }
  if (threadPort) {
    const port = threadPort;
    return { post: (m) => port.postMessage(m), listen: (cb) => port.on('message', (m: unknown) => cb(m as HostToWorker)) };
  }
  const send = process.send?.bind(process);
  if (send) {
    return {
      post: (m) => void send(m),
      listen: (cb) => {
        process.on('message', (m: unknown) => cb(m as HostToWorker));
        // The host going away (crash, kill) closes the IPC channel: leave with it instead of lingering.
        process.on('disconnect', () => process.exit(0));
      },
    };
  }
  throw new Error('The engine worker must be started by the engine host (no parent port found).');
}

const port = connect();
const started = Date.now();
const running = new Map<string, AbortController>();

const requests: { [O in keyof WorkerRequests]: (params: WorkerRequests[O]['params']) => Promise<WorkerRequests[O]['value']> } = {
  ping: async () => ({ pid: process.pid, uptimeMs: Date.now() - started }),
  info: (params) => engineInfo({ refresh: params.refresh }),
  // Against the provider that will really run (an automatic order starting with CUDA may run on the CPU here).
  memoryCheck: async (params) => checkParamsMemory({ ...params, providers: (await runnableProviders(params.providers)).providers }),
};

async function answer(msg: Extract<HostToWorker, { type: 'request' }>): Promise<void> {
  try {
    const handler = requests[msg.op] as (p: unknown) => Promise<unknown>;
    if (!handler) throw new StudioError('BAD_REQUEST', `The engine does not know the request "${String(msg.op)}".`);
    port.post({ type: 'response', id: msg.id, ok: true, value: await handler(msg.params) });
  } catch (e) {
    port.post({ type: 'response', id: msg.id, ok: false, error: serializeError(e) });
  }
}

async function runJob(msg: Extract<HostToWorker, { type: 'job:start' }>): Promise<void> {
  const { jobId, kind } = msg;
  const controller = new AbortController();
  running.set(jobId, controller);
  try {
    const handler = Object.hasOwn(JOB_HANDLERS, kind) ? JOB_HANDLERS[kind] : undefined;
    if (!handler) throw new StudioError('INTERNAL', `The engine cannot run "${kind}" jobs: not available yet.`, { kind });
    const result = await handler(msg.params, {
      jobId,
      signal: controller.signal,
      progress: (progress) => port.post({ type: 'job:progress', jobId, progress }),
    });
    if (controller.signal.aborted) throw new StudioError('CANCELLED', 'Cancelled.');
    port.post({ type: 'job:result', jobId, result });
  } catch (e) {
    const error = controller.signal.aborted ? { code: 'CANCELLED' as const, message: 'Cancelled.' } : serializeError(e);
    port.post({ type: 'job:error', jobId, error });
    // A lost GPU leaves onnxruntime's device context unusable: exit after reporting, and the host starts a fresh
    // worker for the next job (history and queue live in the services, not here).
    if (error.code === 'DEVICE_LOST') setTimeout(() => process.exit(75), 100);
  } finally {
    running.delete(jobId);
  }
}

port.listen((msg) => {
  switch (msg.type) {
    case 'request':
      void answer(msg);
      break;
    case 'job:start':
      void runJob(msg);
      break;
    case 'job:cancel':
      running.get(msg.jobId)?.abort();
      break;
    case 'shutdown':
      for (const c of running.values()) c.abort();
      process.exit(0);
  }
});

port.post({ type: 'ready', pid: process.pid });
