import { useState } from 'react';
import type { StepProgress } from '../../../shared/domain/generation';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FramePlayer } from '../../components/FramePlayer';
import { PreviewCanvas } from '../../components/PreviewCanvas';
import { ProgressBar } from '../../components/ProgressBar';
import { isEnded, useJobs, type JobView } from '../../state/jobs';
import { formatDuration, framePaths } from '../../state/media';
import { useLoad } from '../../state/use-load';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';

const STAGE_TEXT: Record<StepProgress['stage'], string> = {
  compile: 'Preparing the model',
  encode: 'Reading the prompt',
  denoise: 'Sampling',
  decode: 'Decoding frames',
  write: 'Saving frames',
};

const STATUS_TEXT: Record<JobView['status'], string> = {
  queued: 'Waiting',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** Where the job is, 0…1: sampling dominates the time, so it is most of the bar. */
function fractionOf(job: JobView): number | null {
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

function progressText(job: JobView): string {
  if (job.status !== 'running') return STATUS_TEXT[job.status];
  const p = job.progress;
  if (!p) return 'Starting…';
  const stage = STAGE_TEXT[p.stage];
  const windows = p.contextWindows ? ` (${p.contextWindows.count} windows of ${p.contextWindows.length} frames)` : '';
  const steps = p.stage === 'denoise' ? ` — step ${p.step} of ${p.totalSteps}${windows}` : '';
  const eta = p.etaMs !== undefined ? ` — about ${formatDuration(p.etaMs)} left` : '';
  return `${stage}${steps}${eta}`;
}

const PLACEHOLDER: Record<JobView['status'], string> = {
  queued: 'Waiting for its turn',
  running: 'Preview appears with the first step',
  done: 'Done',
  failed: 'No preview',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/**
 * The job's picture: the streamed x0 preview while it runs; once done, the clip's real frames (played while
 * hovered). Same fixed-aspect box throughout, so the list never shifts.
 */
function JobMedia({ job, aspect }: { job: JobView; aspect: number }) {
  const { api, mediaUrl } = useStudio();
  const [hover, setHover] = useState(false);
  const done = job.status === 'done' && job.generationId !== null;
  const record = useLoad(() => (done && job.generationId !== null ? api.getGeneration(job.generationId) : Promise.resolve(null)), [api, done, job.generationId]);
  const urls = framePaths(record.value?.outputs ?? null).map(mediaUrl);
  return (
    <div className="job-media" data-testid="job-preview" data-has-preview={job.preview ? 'true' : 'false'} onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}>
      {done && urls.length > 0 ? (
        <FramePlayer urls={urls} fps={job.params.fps} aspect={aspect} playing={hover} label={`Clip of “${job.params.prompt || 'untitled'}”`} />
      ) : (
        <PreviewCanvas preview={job.preview} fps={job.params.fps} aspect={aspect} label={`Preview of “${job.params.prompt || 'untitled'}”`} placeholder={PLACEHOLDER[job.status]} />
      )}
    </div>
  );
}

/** The queue: newest at the top, each job with its live preview, progress, time left and a cancel button. */
export function QueueList() {
  const { jobs, error, cancel, clearEnded } = useJobs();
  const { go } = useStudio();
  const toasts = useToasts();
  const ordered = [...jobs].reverse();
  const anyEnded = jobs.some((j) => isEnded(j.status));
  // Cancelling takes effect between sampling steps; say so rather than look stuck.
  const [cancelling, setCancelling] = useState<ReadonlySet<string>>(new Set());

  return (
    <section className="queue" aria-labelledby="queue-title" data-testid="queue">
      <div className="section-head">
        <h2 id="queue-title">Queue</h2>
        {anyEnded && (
          <button type="button" className="link-button" onClick={clearEnded}>
            Clear finished
          </button>
        )}
      </div>
      {error && <ErrorPanel error={error} title="The queue is not available" />}
      {!error && jobs.length === 0 && (
        <p className="empty-hint" data-testid="queue-empty">
          Nothing queued. Jobs you start appear here with a live preview of each step.
        </p>
      )}
      <ol className="job-list">
        {ordered.map((job) => {
          const aspect = job.params.width / job.params.height;
          const running = job.status === 'running' || job.status === 'queued';
          return (
            <li key={job.jobId} className={`job job-${job.status}`} data-testid="job" data-status={job.status} data-job-id={job.jobId}>
              <JobMedia job={job} aspect={aspect} />
              <div className="job-body">
                <p className="job-prompt" title={job.params.prompt}>
                  {job.params.prompt || <em>No prompt</em>}
                </p>
                <p className="job-meta">
                  {job.params.width}×{job.params.height} · {job.params.frames} frames · {job.params.steps} steps · seed {job.params.seed}
                </p>
                <ProgressBar fraction={fractionOf(job)} label={`Progress of job ${job.jobId}`} />
                <p className="job-status" data-testid="job-status" aria-live="polite">
                  {running && cancelling.has(job.jobId) ? 'Stopping after the current step…' : progressText(job)}
                </p>
                {job.notes.length > 0 && (
                  <ul className="job-notes" data-testid="job-notes">
                    {job.notes.map((n) => (
                      <li key={n} className={/not applied|instead/i.test(n) ? 'warning-line' : undefined}>
                        {n}
                      </li>
                    ))}
                  </ul>
                )}
                {job.error && job.status === 'failed' && <ErrorPanel error={job.error} compact />}
                <div className="job-actions">
                  {running && (
                    <button
                      type="button"
                      className="button"
                      disabled={cancelling.has(job.jobId)}
                      onClick={() => {
                        setCancelling((s) => new Set(s).add(job.jobId));
                        cancel(job.jobId).catch((e: unknown) => {
                          setCancelling((s) => new Set([...s].filter((id) => id !== job.jobId)));
                          toasts.error(e, 'Could not cancel the job');
                        });
                      }}
                      data-testid="job-cancel"
                    >
                      {cancelling.has(job.jobId) ? 'Cancelling…' : 'Cancel'}
                    </button>
                  )}
                  {job.status === 'done' && job.generationId !== null && (
                    <button type="button" className="link-button" onClick={() => go('history')}>
                      See it in History
                    </button>
                  )}
                </div>
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
