/** How a queued job's state reads: the bar's fraction and the status line, shared by the queue strip and viewer. */
import type { StepProgress } from '../../../shared/domain/generation';
import type { JobView } from '../../state/jobs';
import { formatDuration } from '../../state/media';
import { STATUS_TEXT } from '../../state/status-text';

const STAGE_TEXT: Record<StepProgress['stage'], string> = {
  compile: 'Preparing the model',
  encode: 'Reading the prompt',
  denoise: 'Sampling',
  decode: 'Decoding frames',
  write: 'Saving frames',
};

export { STATUS_TEXT };

/**
 * Where the job is, 0…1 (sampling dominates the time, so it is most of the bar); null while the engine has said
 * nothing yet. Only jobs that are queued, running or done have a bar: a job that ended early has no "progress"
 * left to show, and a bar stuck part-way would say it is still going.
 */
export function fractionOf(job: JobView): number | null {
  if (job.status === 'done') return 1;
  const p = job.progress;
  if (!p) return job.status === 'queued' ? 0 : null;
  const within = p.totalSteps > 0 ? p.step / p.totalSteps : 0;
  switch (p.stage) {
    case 'compile':
      return 0.05 * within;
    case 'encode':
      return 0.05 + 0.05 * within;
    case 'denoise':
      return 0.1 + 0.75 * within;
    case 'decode':
      return 0.85 + 0.1 * within;
    case 'write':
      return 0.95 + 0.05 * within;
  }
}

export function hasBar(job: JobView): boolean {
  return job.status === 'queued' || job.status === 'running' || job.status === 'done';
}

export function progressText(job: JobView): string {
  if (job.status === 'failed' && job.error) return `Failed: ${job.error.message}`;
  if (job.status === 'interrupted') return 'Interrupted: the studio stopped while this job ran';
  if (job.status !== 'running') return STATUS_TEXT[job.status];
  const p = job.progress;
  if (!p) return 'Starting…';
  const stage = STAGE_TEXT[p.stage];
  const windows = p.contextWindows ? ` (${p.contextWindows.count} windows of ${p.contextWindows.length} frames)` : '';
  const steps = p.stage === 'denoise' ? ` — step ${p.step} of ${p.totalSteps}${windows}` : '';
  const eta = p.etaMs !== undefined ? ` — about ${formatDuration(p.etaMs)} left` : '';
  return `${stage}${steps}${eta}`;
}

/**
 * The queue card's compact form of `progressText`: beside Cancel on a card of about 280 px only a few words fit, so
 * sampling reads "Sampling 3/20" (and the window count), without the time left — the viewer says the whole line.
 */
export function cardProgressText(job: JobView): string {
  const p = job.progress;
  if (job.status !== 'running' || !p || p.stage !== 'denoise') return progressText(job);
  const windows = p.contextWindows ? ` · ${p.contextWindows.count} windows` : '';
  return `${STAGE_TEXT.denoise} ${p.step}/${p.totalSteps}${windows}`;
}
