/**
 * The jobs the engine worker can run, by kind. The pipelines register here (e.g. `generate: text2videoJob`); a
 * kind that is not listed fails with a clear INTERNAL error instead of hanging. Handlers run inside the worker,
 * off the main process's event loop, and never import Electron or the store.
 */
import { generateJob } from './generate-job';
import { engineVersionJob } from './jobs/engine-version-job';
import { checkControlUnitsJob } from './jobs/check-control-units-job';
import { controlPreviewJob } from './jobs/control-preview-job';
import { hashControlUnitsJob } from './jobs/hash-control-units-job';
import { hashFilesJob } from './jobs/hash-files-job';
import { inspectFileJob } from './jobs/inspect-file-job';
import { CHECK_CONTROL_UNITS_JOB, CONTROL_PREVIEW_JOB, ENGINE_VERSION_JOB, HASH_CONTROL_UNITS_JOB, HASH_FILES_JOB, INSPECT_FILE_JOB } from './jobs/job-types';
import type { JobHandler } from './worker-protocol';

export const JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  // The text-to-video pipeline (issue 5): GenerateJobParams → GenerateResult, GenerateProgress events.
  generate: generateJob as JobHandler,
  // The generation queue's helpers (src/main/engine/jobs): file hashes and engine version for history records.
  [HASH_FILES_JOB]: hashFilesJob,
  [ENGINE_VERSION_JOB]: engineVersionJob,
  // ControlNet units' file and input hashes for the record (engine/control/unit-hashes.ts).
  [HASH_CONTROL_UNITS_JOB]: hashControlUnitsJob as JobHandler,
  // Generate's ControlNet preview (studio-services previewControlUnit): the unit's maps as PNGs.
  [CONTROL_PREVIEW_JOB]: controlPreviewJob as JobHandler,
  // The queue's pre-record check of ControlNet units (the CLI's check-units.ts).
  [CHECK_CONTROL_UNITS_JOB]: checkControlUnitsJob as JobHandler,
  // The library's import (src/main/services/library-service.ts): header, detection and hashes off main.
  [INSPECT_FILE_JOB]: inspectFileJob,
};
