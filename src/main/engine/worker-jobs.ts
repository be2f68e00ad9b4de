/**
 * The jobs the engine worker can run, by kind. The pipelines register here (e.g. `generate: text2videoJob`); a
 * kind that is not listed fails with a clear INTERNAL error instead of hanging. Handlers run inside the worker,
 * off the main process's event loop, and never import Electron or the store.
 */
import type { JobHandler } from './worker-protocol';

export const JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  // generate: the text-to-video pipeline (issue 5) adds its handler here.
};
