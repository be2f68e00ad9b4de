/** A job's or record's status in one word, the same on queue cards, the viewer, History's badges. */
import type { JobStatus } from '../../shared/domain/generation';

export const STATUS_TEXT: Record<JobStatus, string> = {
  queued: 'Waiting',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};
