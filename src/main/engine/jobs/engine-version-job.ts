/**
 * The worker-side 'engine-version' job: which engine and noise generator this worker runs, for the history
 * record of a queued generation. Asked of the worker because main must not load the engine to learn it.
 */
import { ENGINE_VERSION } from '../generate';
import { NOISE_GENERATOR } from '../noise/torch-randn';
import type { JobHandler } from '../worker-protocol';
import type { EngineVersionJobResult } from './job-types';

export const engineVersionJob: JobHandler<unknown, EngineVersionJobResult> = async () => ({
  engineVersion: ENGINE_VERSION,
  noise: { name: NOISE_GENERATOR.name, version: NOISE_GENERATOR.version },
});
