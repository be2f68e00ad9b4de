import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Timeline } from '../../../shared/domain/timeline';
import { ErrorPanel } from '../../components/ErrorPanel';
import { setCurrentTimeline, useCurrentTimeline } from '../../state/current-timeline';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { useLoad } from '../../state/use-load';
import { ClipItem, clipWidth } from './ClipItem';
import { ExportDialog } from './ExportDialog';
import { buildSequence, formatTime, totalMs } from './sequence';

const GAP_PX = 8;

/** Clips in order as filmstrips, a viewer with play/pause and scrubbing, trimming, reordering and export. */
export function TimelinePlace() {
  const { api, go, mediaUrl } = useStudio();
  const toasts = useToasts();
  const current = useCurrentTimeline();
  const pickId = useId();
  const list = useLoad(() => api.listTimelines(), [api]);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [playing, setPlaying] = useState(false);
  const [pos, setPos] = useState(0);
  const [exporting, setExporting] = useState(false);
  const dragged = useRef<number | null>(null);

  // Open the current timeline, else the most recent one; none yet → the empty state offers to make one.
  const timelines = list.value ?? [];
  const openId = current ?? [...timelines].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0]?.id ?? null;
  useEffect(() => {
    if (openId === null) return setTimeline(null);
    if (current === null) setCurrentTimeline(openId);
    let live = true;
    api.getTimeline(openId).then(
      (t) => live && (setTimeline(t), setError(null)),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [api, openId, current]);

  const seq = useMemo(() => (timeline ? buildSequence(timeline) : []), [timeline]);
  const duration = totalMs(seq);
  const at = seq[Math.min(pos, Math.max(0, seq.length - 1))];

  useEffect(() => {
    if (pos >= seq.length && seq.length > 0) setPos(seq.length - 1);
  }, [pos, seq.length]);

  // Play: each frame stays for its own clip's duration (clips may differ in fps and speed).
  useEffect(() => {
    if (!playing || seq.length === 0) return;
    for (const f of seq) if (f.path) new Image().src = mediaUrl(f.path);
    const frame = seq[Math.min(pos, seq.length - 1)];
    const timer = setTimeout(() => setPos((p) => (p + 1 >= seq.length ? 0 : p + 1)), frame.durationMs);
    return () => clearTimeout(timer);
  }, [playing, pos, seq, mediaUrl]);

  const mutate = (p: Promise<Timeline>, what: string) =>
    p.then(
      (t) => {
        setTimeline(t);
        void list.reload();
      },
      (e: unknown) => toasts.error(e, what),
    );

  const onViewerKey = (e: KeyboardEvent) => {
    if (e.target !== e.currentTarget) return;
    const action =
      e.key === ' ' || e.key === 'k' ? () => setPlaying((p) => !p)
      : e.key === 'ArrowLeft' ? () => setPos((p) => Math.max(0, p - 1))
      : e.key === 'ArrowRight' ? () => setPos((p) => Math.min(seq.length - 1, p + 1))
      : e.key === 'Home' ? () => setPos(0)
      : e.key === 'End' ? () => setPos(seq.length - 1)
      : null;
    if (!action) return;
    e.preventDefault();
    action();
  };

  // Where the playhead stands on the track, in pixels.
  const playheadPx = useMemo(() => {
    if (!timeline || !at) return 0;
    let x = 0;
    for (let i = 0; i < at.clipIndex; i++) x += clipWidth(timeline.clips[i]) + GAP_PX;
    const clip = timeline.clips[at.clipIndex];
    const n = clip.source.outputs?.frameCount ?? clip.outFrame;
    return x + (at.frame + 0.5) * (clipWidth(clip) / n);
  }, [timeline, at]);

  const first = timeline?.clips[0]?.source;
  const aspect = first ? first.width / first.height : 1;

  return (
    <section className="place place-timeline" data-place="timeline">
      <h1 id="place-title">Timeline</h1>
      <p className="place-summary">Put clips in order, trim them, export.</p>
      <div className="timeline-toolbar">
        {timelines.length > 1 && (
          <>
            <label htmlFor={pickId}>Timeline</label>
            <select id={pickId} value={openId ?? ''} onChange={(e) => setCurrentTimeline(Number(e.target.value))}>
              {timelines.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} ({t.clipCount})
                </option>
              ))}
            </select>
          </>
        )}
        <button
          type="button"
          className="button"
          onClick={() =>
            api.createTimeline(`Timeline ${timelines.length + 1}`).then(
              (t) => (setCurrentTimeline(t.id), void list.reload()),
              (e: unknown) => toasts.error(e, 'Could not create a timeline'),
            )
          }
        >
          New timeline
        </button>
        <span className="spacer" />
        <button type="button" className="button button-primary" disabled={!timeline || timeline.clips.length === 0} onClick={() => setExporting(true)} data-testid="export-open">
          Export…
        </button>
      </div>
      {list.error && <ErrorPanel error={list.error} title="The timelines could not be read" />}
      {error !== null && <ErrorPanel error={{ code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) }} title="The timeline could not be opened" />}

      {(!timeline || timeline.clips.length === 0) && !list.loading && (
        <div className="empty-state" role="note">
          <p>
            No clips yet. In History, pick a clip and choose “Send to timeline”; clips play here in order, and you can trim and reorder them, then export MP4, WebM, GIF or PNG frames.{' '}
            <button type="button" className="link-button" onClick={() => go('history')}>
              Open History
            </button>
          </p>
        </div>
      )}

      {timeline && timeline.clips.length > 0 && (
        <>
          <div className="viewer" tabIndex={0} onKeyDown={onViewerKey} aria-label="Timeline viewer. Space plays or pauses; arrow keys step a frame." data-testid="viewer">
            <div className="media-box viewer-box" style={{ aspectRatio: String(aspect) }}>
              {at?.path && <img src={mediaUrl(at.path)} alt={`Frame ${pos + 1} of ${seq.length}`} draggable={false} data-testid="viewer-frame" />}
            </div>
            <div className="transport">
              <button type="button" className="button" onClick={() => setPlaying((p) => !p)} aria-pressed={playing} data-testid="play">
                {playing ? 'Pause' : 'Play'}
              </button>
              <input
                type="range"
                className="scrubber"
                min={0}
                max={Math.max(0, seq.length - 1)}
                value={Math.min(pos, Math.max(0, seq.length - 1))}
                onChange={(e) => (setPlaying(false), setPos(e.target.valueAsNumber))}
                aria-label="Scrub"
                aria-valuetext={`Frame ${pos + 1} of ${seq.length}`}
                data-testid="scrubber"
              />
              <span className="timecode" data-testid="timecode">
                {formatTime(at?.startMs ?? 0)} / {formatTime(duration)}
              </span>
            </div>
          </div>
          <p id="clip-keys" className="field-hint">
            Drag a clip to reorder it, or focus it and press Alt+← / Alt+→. Drag the trim handles, or focus one and use the arrow keys. Delete removes the focused clip.
          </p>
          <div className="track-scroll">
            <div className="track-inner">
            <ol className="track" style={{ gap: GAP_PX }} data-testid="track">
              {timeline.clips.map((clip, i) => (
                <ClipItem
                  key={clip.id}
                  clip={clip}
                  index={i}
                  count={timeline.clips.length}
                  active={at?.clipIndex === i}
                  onTrim={(inF, outF) => void mutate(api.trimClip(clip.id, inF, outF), 'Could not trim the clip')}
                  onMove={(to) => void mutate(api.moveClip(clip.id, to), 'Could not move the clip')}
                  onRemove={() => void mutate(api.removeClip(clip.id), 'Could not remove the clip')}
                  onDuplicate={() => void mutate(api.duplicateClip(clip.id), 'Could not duplicate the clip')}
                  onSeek={(f) => {
                    const idx = seq.findIndex((s) => s.clipIndex === i && s.frame >= f);
                    if (idx < 0) return;
                    setPlaying(false);
                    setPos(idx);
                  }}
                  onDragStart={() => (dragged.current = clip.id)}
                  onDropOn={() => {
                    const from = dragged.current;
                    dragged.current = null;
                    if (from !== null && from !== clip.id) void mutate(api.moveClip(from, i), 'Could not move the clip');
                  }}
                />
              ))}
            </ol>
              <div className="playhead" style={{ left: playheadPx }} aria-hidden="true" data-testid="playhead" />
            </div>
          </div>
          {exporting && <ExportDialog timelineId={timeline.id} width={first?.width ?? 512} height={first?.height ?? 512} onClose={() => setExporting(false)} />}
        </>
      )}
    </section>
  );
}

