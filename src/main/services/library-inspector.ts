/**
 * What LibraryService needs to know about a file before it goes into the library. Injected, so the service is
 * independent of where inspection runs: in the engine worker for the studio (`engineInspector`), in-process for
 * the CLI (`inspectModelFile`), or a stricter one in tests.
 */
import { randomUUID } from 'node:crypto';
import { INSPECT_FILE_JOB, type InspectFileJobParams } from '../engine/jobs/job-types';
import type { InspectedFile } from '../engine/jobs/inspect-file';
import type { EngineHost } from './engine-host';

export type { InspectedFile } from '../engine/jobs/inspect-file';

/** Inspect the file at `path`; throws StudioError for files that are not models (with the reason). */
export type FileInspector = (path: string) => Promise<InspectedFile>;

/**
 * Inspection as an engine job: the header parse, detection and full-file hash run in the engine worker (a
 * separate process), so a large or hostile file never stalls main's event loop and costs main no memory.
 */
export function engineInspector(engine: EngineHost): FileInspector {
  return async (path) => {
    const params: InspectFileJobParams = { path };
    return (await engine.runJob<InspectedFile>(INSPECT_FILE_JOB, `inspect-${randomUUID()}`, params).result);
  };
}
