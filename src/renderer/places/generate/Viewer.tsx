import { useEffect, useId, useState, type CSSProperties } from 'react';
import { ErrorPanel } from '../../components/ErrorPanel';
import { FramePlayer } from '../../components/FramePlayer';
import { PreviewCanvas } from '../../components/PreviewCanvas';
import { ProgressBar } from '../../components/ProgressBar';
import type { JobView } from '../../state/jobs';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';
import { typingIn } from '../../shortcuts';
import { fractionOf, hasBar, progressText } from './job-progress';

/** The frames of a finished job, as media URLs (empty until loaded or when the job made none). */
function useJobFrames(job: JobView | null): string[] {
  const { api, mediaUrl } = useStudio();
  const id = job?.status === 'done' ? job.generationId : null;
  const record = useLoad(() => (id !== null ? api.getGeneration(id) : Promise.resolve(null)), [api, id]);
  return framePaths(record.value?.outputs ?? null).map(mediaUrl);
}

/**
 * The large picture in the middle of Generate: the running job's streamed preview from its first step, at the
 * viewer's size; the finished clip, playing, with a frame scrubber; the reason a job failed or was cancelled.
 * `B` (or the button) swaps in the previous take, to compare.
 */
export function Viewer({ job, previous }: { job: JobView | null; previous: JobView | null }) {
  const [comparing, setComparing] = useState(false);
  const shown = comparing && previous ? previous : job;
  const urls = useJobFrames(shown);
  const [playing, setPlaying] = useState(true);
  const [frame, setFrame] = useState(0);
  const scrubId = useId();

  // A different take starts from its first frame, playing; the same take keeps the creator's frame and pause.
  const shownId = shown?.jobId;
  useEffect(() => {
    setFrame(0);
    setPlaying(true);
  }, [shownId]);
  useEffect(() => {
    if (!previous) setComparing(false);
  }, [previous]);

  // B anywhere outside a text field swaps the previous take in and out; Space plays and pauses.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (typingIn(t)) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'b' || e.key === 'B') {
        if (previous) setComparing((c) => !c);
      } else if (e.key === ' ' && urls.length > 1 && !(t && t.tagName === 'BUTTON')) {
        e.preventDefault();
        setPlaying((p) => !p);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [previous, urls.length]);

  if (!shown) {
    return (
      <section className="gen-viewer gen-viewer-empty" aria-label="Viewer" data-testid="viewer" data-state="empty">
        <div className="gen-viewer-empty-text">
          <p className="gen-viewer-empty-title">Your clip appears here</p>
          <p className="muted">Write a prompt and press Generate (Ctrl+Enter). The preview starts moving from the first sampling step.</p>
        </div>
      </section>
    );
  }

  const aspect = shown.params.width / shown.params.height;
  const label = `“${shown.params.prompt || 'untitled'}”`;
  const done = shown.status === 'done';
  const endedReason = ENDED_REASON[shown.status];
  // A job that ended without a clip may still hold its last sampling preview: shown dimmed and tagged, so it is not
  // taken for a result.
  const stale = !done && (endedReason !== undefined || shown.status === 'failed') && shown.preview !== null;
  return (
    <section className="gen-viewer" aria-label="Viewer" data-testid="viewer" data-state={shown.status} data-job-id={shown.jobId} data-comparing={comparing ? 'true' : 'false'}>
      <div className="gen-viewer-stage">
        <div className={stale ? 'gen-viewer-fit gen-viewer-stale' : 'gen-viewer-fit'} style={{ '--aspect': String(aspect) } as CSSProperties}>
          {done && urls.length > 0 ? (
            <FramePlayer urls={urls} fps={shown.params.fps} aspect={aspect} playing={playing} frame={frame} onFrame={setFrame} label={`Frame ${frame + 1} of ${urls.length} of ${label}`} testId="viewer-frame" />
          ) : (
            <PreviewCanvas preview={shown.preview} fps={shown.params.fps} aspect={aspect} label={`Preview of ${label}`} placeholder={placeholderOf(shown)} testId="viewer-preview" />
          )}
        </div>
        {comparing && <span className="gen-viewer-tag">Previous take — press B to return</span>}
        {stale && !comparing && (
          <span className="gen-viewer-tag gen-viewer-tag-muted" data-testid="viewer-stale">
            Last preview, not kept
          </span>
        )}
      </div>
      <div className="gen-viewer-bar">
        {done && urls.length > 0 ? (
          <>
            <button type="button" className="button button-small" onClick={() => setPlaying((p) => !p)} aria-pressed={playing} data-testid="viewer-play" aria-label={playing ? 'Pause (Space)' : 'Play (Space)'}>
              {playing ? 'Pause' : 'Play'}
            </button>
            <label htmlFor={scrubId} className="visually-hidden">
              Frame
            </label>
            <input
              id={scrubId}
              type="range"
              className="gen-viewer-scrubber"
              min={0}
              max={urls.length - 1}
              value={frame}
              data-testid="viewer-scrubber"
              aria-valuetext={`Frame ${frame + 1} of ${urls.length}`}
              onChange={(e) => {
                setPlaying(false);
                setFrame(e.target.valueAsNumber);
              }}
              // Touching the scrubber pauses even when it lands on the frame already shown (no change event then).
              onInput={() => setPlaying(false)}
              onPointerDown={() => setPlaying(false)}
            />
            <span className="gen-viewer-timecode" data-testid="viewer-timecode">
              {frame + 1}/{urls.length}
            </span>
          </>
        ) : (
          <div className="gen-viewer-progress">
            {hasBar(shown) && <ProgressBar fraction={fractionOf(shown)} label="Progress of the job in the viewer" />}
            {/* A job that ended early says why in the status line itself: said once, and the picture keeps its size. */}
            {endedReason ? (
              <p className="gen-viewer-reason" data-testid="viewer-reason" aria-live="polite" title={endedReason}>
                {endedReason}
              </p>
            ) : (
              <p className="gen-viewer-status" data-testid="viewer-status" aria-live="polite">
                {progressText(shown)}
              </p>
            )}
          </div>
        )}
        <button type="button" className="button button-small" disabled={!previous} onClick={() => setComparing((c) => !c)} aria-pressed={comparing} data-testid="viewer-compare" title="Compare with the previous take (B)">
          {comparing ? 'Back to this take' : 'Previous take (B)'}
        </button>
      </div>
      {shown.status === 'failed' && shown.error && <ErrorPanel error={shown.error} title="This job failed" />}
    </section>
  );
}

/** Why a job that ended early left no clip. */
const ENDED_REASON: Partial<Record<JobView['status'], string>> = {
  cancelled: 'Cancelled before it finished; nothing was kept.',
  interrupted: 'The studio stopped while this job ran; start it again to get the clip.',
};

function placeholderOf(job: JobView): string {
  switch (job.status) {
    case 'queued':
      return 'Waiting for its turn';
    case 'running':
      return 'The preview appears with the first sampling step';
    case 'failed':
      return 'No clip: the job failed';
    case 'cancelled':
      return 'No clip: cancelled';
    case 'interrupted':
      return 'No clip: interrupted';
    case 'done':
      return 'The clip has no frames on disk';
  }
}
