/**
 * The worker-side 'inspect-file' job: what a file is, for a library import (inspect-file.ts). Parsing a header
 * and hashing a multi-gigabyte file are CPU and I/O work that must not stall main's event loop (every other
 * request of the web server or the window waits on it), and a hostile header costs this process, not main.
 */
import { resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { JobHandler } from '../worker-protocol';
import { inspectModelFile, type InspectedFile } from './inspect-file';
import type { InspectFileJobParams } from './job-types';

export const inspectFileJob: JobHandler<unknown, InspectedFile> = async (raw) => {
  const path = (raw as Partial<InspectFileJobParams> | null)?.path;
  if (typeof path !== 'string' || path.length === 0) throw new StudioError('BAD_REQUEST', 'An inspect-file job needs { path: string }.');
  return inspectModelFile(resolve(path));
};
