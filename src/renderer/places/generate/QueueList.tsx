import { useState } from 'react';
import { FramePlayer } from '../../components/FramePlayer';
import { PreviewCanvas } from '../../components/PreviewCanvas';
import { ProgressBar } from '../../components/ProgressBar';
import { isEnded, useJobs, type JobView } from '../../state/jobs';
import { framePaths } from '../../state/media';
import { useLoad } from '../../state/use-load';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { STATUS_TEXT, cardProgressText, fractionOf, hasBar, progressText } from './job-progress';

const PLACEHOLDER: Record<JobView['status'], string> = {
  queued: 'Waiting',
  running: 'Preview with the first step',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/**
 * The job's thumbnail: the streamed x0 preview while it runs; once done, the clip's real frames (played while
 * hovered). A square box whatever the clip's shape (the picture fits inside it), so every card is the same
 * height, a portrait clip is not cut by its card, and the strip never shifts.
 */
function JobMedia({ job }: { job: JobView }) {
  const { api, mediaUrl } = useStudio();
  const [hover, setHover] = useState(false);
  const done = job.status === 'done' && job.generationId !== null;
  const record = useLoad(() => (done && job.generationId !== null ? api.getGeneration(job.generationId) : Promise.resolve(null)), [api, done, job.generationId]);
  const urls = framePaths(record.value?.outputs ?? null).map(mediaUrl);
  return (
    <div className="job-media" data-testid="job-preview" data-has-preview={job.preview ? 'true' : 'false'} onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}>
      {done && urls.length > 0 ? (
        <FramePlayer urls={urls} fps={job.params.fps} aspect={1} playing={hover} label={`Clip of “${job.params.prompt || 'untitled'}”`} />
      ) : (
        <PreviewCanvas preview={job.preview} fps={job.params.fps} aspect={1} label={`Preview of “${job.params.prompt || 'untitled'}”`} placeholder={PLACEHOLDER[job.status]} />
      )}
    </div>
  );
}

/**
 * The queue as a strip under the viewer: newest first, each job a card with its live thumbnail (its progress along
 * the foot), settings, whole seed, status and cancel. Choosing a card shows that job in the viewer.
 */
export function QueueList({ selectedId, onSelect }: { selectedId: string | null; onSelect: (jobId: string) => void }) {
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
        <span className="muted queue-count">{jobs.length === 0 ? '' : `${jobs.filter((j) => !isEnded(j.status)).length} waiting or running · ${jobs.length} in all`}</span>
        <span className="spacer" />
        {anyEnded && (
          <button type="button" className="link-button" onClick={clearEnded}>
            Clear finished
          </button>
        )}
      </div>
      {error && <p className="warning-line">The queue is not available: {error.message}</p>}
      {!error && jobs.length === 0 && (
        <p className="empty-hint" data-testid="queue-empty">
          Nothing queued. Jobs you start line up here; the one in the viewer is outlined.
        </p>
      )}
      <ol className="job-list">
        {ordered.map((job) => {
          const meta = `${job.params.width}×${job.params.height} · ${job.params.frames} fr · ${job.params.steps} steps`;
          const running = job.status === 'running' || job.status === 'queued';
          const selected = job.jobId === selectedId;
          return (
            <li
              key={job.jobId}
              className={`job job-${job.status}${selected ? ' job-selected' : ''}`}
              data-testid="job"
              data-status={job.status}
              data-job-id={job.jobId}
              aria-current={selected ? 'true' : undefined}
              // Tabbing into a card off to the side brings the whole card into the strip, not only the control.
              onFocus={(e) => e.currentTarget.scrollIntoView({ block: 'nearest', inline: 'nearest' })}
            >
              {/* The status on the thumbnail, not in front of the title: the title gets the card's whole width. */}
              <div className="job-thumb">
                <button type="button" className="job-select" onClick={() => onSelect(job.jobId)} aria-label={`Show “${job.params.prompt || 'untitled'}” in the viewer`}>
                  <JobMedia job={job} />
                </button>
                <span className={`status-badge status-badge-${job.status}`}>{STATUS_TEXT[job.status]}</span>
                {/* The card's compact progress, along the thumbnail's foot (the viewer has the large one). */}
                {hasBar(job) && (
                  <div className="job-thumb-progress">
                    <ProgressBar fraction={fractionOf(job)} label={`Progress of job ${job.jobId}`} />
                  </div>
                )}
              </div>
              <div className="job-body">
                <p className="job-prompt" title={job.params.prompt}>
                  {job.params.prompt || <em>No prompt</em>}
                </p>
                <p className="job-meta" title={meta}>
                  {meta}
                </p>
                {/* The seed on a line of its own, never cut: it is what creators copy to re-roll. One click selects
                    the number (and only it) for Ctrl+C. */}
                <p className="job-meta job-seed" data-testid="job-seed">
                  seed <span className="job-seed-value">{job.params.seed}</span>
                </p>
                <div className="job-line">
                  {/* Compact beside Cancel (the viewer says the whole line); the title holds it too. */}
                  <p className="job-status" data-testid="job-status" aria-live="polite" title={running && cancelling.has(job.jobId) ? 'Stopping after the current step' : progressText(job)}>
                    {running && cancelling.has(job.jobId) ? 'Stopping…' : cardProgressText(job)}
                  </p>
                  <div className="job-actions">
                    {running && (
                      <button
                        type="button"
                        className="button button-small"
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
                        In History
                      </button>
                    )}
                  </div>
                </div>
                {job.notes.length > 0 && (
                  <ul className="job-notes" data-testid="job-notes">
                    {job.notes.map((n) => (
                      <li key={n} className={/not applied|instead/i.test(n) ? 'warning-line' : undefined} title={n}>
                        {n}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
