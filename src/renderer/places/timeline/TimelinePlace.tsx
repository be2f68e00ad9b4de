import { useCallback, useEffect, useId, useMemo, useRef, useState, type CSSProperties, type KeyboardEvent, type PointerEvent } from 'react';
import { CLIP_SPEED_MAX, CLIP_SPEED_MIN, CROSSFADE_MAX, type Timeline } from '../../../shared/domain/timeline';
import { ErrorPanel } from '../../components/ErrorPanel';
import { setCurrentTimeline, useCurrentTimeline } from '../../state/current-timeline';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { useLoad } from '../../state/use-load';
import { typingIn } from '../../shortcuts';
import { ClipItem } from './ClipItem';
import { ExportDialog } from './ExportDialog';
import { buildSequence, crossfadeTooLong, formatTime, totalMs } from './sequence';
import { useUndoableTimeline } from './timeline-undo';
import { clipSpans, frameAtMs, msToPx, pxToMs, snapMs, tickStep, ZOOM_DEFAULT, ZOOM_MAX, ZOOM_MIN } from './track-geometry';

const CROSSFADES = [0, 0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4].filter((s) => s <= CROSSFADE_MAX);
const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4].filter((s) => s >= CLIP_SPEED_MIN && s <= CLIP_SPEED_MAX);


/** Room a ruler label takes right of its tick (“1:30”, “1.75s” at the ruler's type size, with padding). */
const TICK_LABEL_PX = 40;
/** The track scroller's side padding (studio.css `.track-scroll`): room for a focused clip's ring. */
const TRACK_PAD_PX = 4;
/**
 * An editor's timeline: a large viewer, a time ruler with zoom, clips as wide as they last, a playhead that
 * scrubs across clips and snaps to their edges, per-clip speed, split and duplicate, undo/redo of every edit,
 * several timelines, export.
 */
export function TimelinePlace() {
  const { api, go, mediaUrl } = useStudio();
  const toasts = useToasts();
  const current = useCurrentTimeline();
  const ids = { pick: useId(), zoom: useId(), speed: useId(), fade: useId() };
  const list = useLoad(() => api.listTimelines(), [api]);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [playing, setPlaying] = useState(false);
  const [pos, setPos] = useState(0);
  // null: fit the whole timeline to the track's width (until the creator zooms).
  const [zoomChoice, setZoomChoice] = useState<number | null>(null);
  const trackBox = useRef<HTMLDivElement>(null);
  const hasClips = Boolean(timeline && timeline.clips.length > 0);
  const [trackPx, setTrackPx] = useState(0);
  useEffect(() => {
    const el = trackBox.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setTrackPx(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [hasClips]);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [exporting, setExporting] = useState(false);
  const [busy, setBusy] = useState(false);
  const dragged = useRef<number | null>(null);
  const history = useUndoableTimeline(api);

  // Open the current timeline, else the most recent one; none yet → the empty state offers to make one.
  const timelines = list.value ?? [];
  const openId = current ?? [...timelines].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0]?.id ?? null;
  const resetHistory = history.reset;
  useEffect(() => {
    resetHistory();
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
  }, [api, openId, current, resetHistory]);

  const seq = useMemo(() => (timeline ? buildSequence(timeline) : []), [timeline]);
  const spans = useMemo(() => (timeline ? clipSpans(timeline) : []), [timeline]);
  const duration = totalMs(seq);
  const fitZoom = duration > 0 && trackPx > 0 ? Math.max(ZOOM_MIN, Math.min(ZOOM_MAX, Math.floor(((trackPx - 16) / duration) * 1000))) : ZOOM_DEFAULT;
  const zoom = zoomChoice ?? fitZoom;
  const at = seq[Math.min(pos, Math.max(0, seq.length - 1))];
  const selected = timeline?.clips.find((c) => c.id === selectedId) ?? null;
  const selectedIndex = selected && timeline ? timeline.clips.indexOf(selected) : -1;

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

  /** Every edit goes through here: one undoable step, the list refreshed, failures told. */
  const mutate = useCallback(
    async (what: string, run: () => Promise<Timeline>) => {
      if (!timeline || busy) return;
      setBusy(true);
      try {
        setTimeline(await history.edit(timeline, run));
        void list.reload();
      } catch (e) {
        toasts.error(e, what);
      } finally {
        setBusy(false);
      }
    },
    [timeline, busy, history, list, toasts],
  );

  const undoRedo = useCallback(
    async (which: 'undo' | 'redo') => {
      if (!timeline || busy) return;
      setBusy(true);
      try {
        const t = await (which === 'undo' ? history.undo(timeline) : history.redo(timeline));
        if (t) setTimeline(t);
        void list.reload();
      } catch (e) {
        toasts.error(e, which === 'undo' ? 'Could not undo' : 'Could not redo');
        if (timeline) api.getTimeline(timeline.id).then(setTimeline, () => undefined);
      } finally {
        setBusy(false);
      }
    },
    [timeline, busy, history, list, toasts, api],
  );

  /** Split the clip under the playhead at the frame shown: two clips, the second starting at that frame. */
  const split = useCallback(() => {
    if (!timeline || !at) return;
    const clip = timeline.clips[at.clipIndex];
    if (at.frame <= clip.inFrame) return toasts.info('The playhead is on the first frame of the clip: move it inside the clip to split there.');
    void mutate('Could not split the clip', async () => {
      const doubled = await api.duplicateClip(clip.id);
      const copy = doubled.clips[at.clipIndex + 1];
      await api.trimClip(clip.id, clip.inFrame, at.frame);
      return api.trimClip(copy.id, at.frame, clip.outFrame);
    });
  }, [timeline, at, api, mutate, toasts]);

  // Editor keys: Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y) undo and redo, S splits at the playhead.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (typingIn(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        void undoRedo(e.shiftKey ? 'redo' : 'undo');
      } else if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault();
        void undoRedo('redo');
      } else if (!mod && !e.altKey && (e.key === 's' || e.key === 'S')) {
        e.preventDefault();
        split();
      } else if (mod && e.key.toLowerCase() === 'e' && timeline && timeline.clips.length > 0) {
        e.preventDefault();
        setExporting(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [undoRedo, split, timeline]);

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

  // Scrubbing on the ruler: the playhead follows the pointer across clips, snapping to clip edges.
  const ruler = useRef<HTMLDivElement>(null);
  const scrubTo = (clientX: number) => {
    const r = ruler.current?.getBoundingClientRect();
    if (!r) return;
    const ms = Math.max(0, Math.min(duration, snapMs(pxToMs(clientX - r.left, zoom), spans, zoom)));
    setPlaying(false);
    setPos(frameAtMs(seq, ms));
  };
  const scrubbing = useRef(false);
  const rulerPointer = {
    onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
      scrubbing.current = true;
      e.currentTarget.setPointerCapture(e.pointerId);
      scrubTo(e.clientX);
    },
    onPointerMove: (e: PointerEvent<HTMLDivElement>) => scrubbing.current && scrubTo(e.clientX),
    onPointerUp: () => (scrubbing.current = false),
  };

  const trackWidth = Math.max(msToPx(duration, zoom), 1);
  const playheadPx = at ? msToPx(at.startMs, zoom) : 0;
  const step = tickStep(zoom);
  const ticks = Array.from({ length: Math.floor(duration / 1000 / step) + 1 }, (_, i) => i * step);
  const first = timeline?.clips[0]?.source;
  const aspect = first ? first.width / first.height : 1;

  return (
    <section className="place place-timeline" data-place="timeline">
      <h1 id="place-title">Timeline</h1>
      <p className="place-summary">Put clips in order, trim, split, change their speed, export. Ctrl+Z undoes any edit.</p>
      <div className="timeline-toolbar">
        <label htmlFor={ids.pick}>Timeline</label>
        <select id={ids.pick} value={openId ?? ''} onChange={(e) => setCurrentTimeline(Number(e.target.value))} data-testid="timeline-picker">
          {timelines.length === 0 && <option value="">None yet</option>}
          {timelines.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({t.clipCount} clip{t.clipCount === 1 ? '' : 's'})
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button"
          data-testid="timeline-new"
          onClick={() =>
            api.createTimeline(`Timeline ${timelines.length + 1}`).then(
              (t) => (setCurrentTimeline(t.id), void list.reload()),
              (e: unknown) => toasts.error(e, 'Could not create a timeline'),
            )
          }
        >
          New timeline
        </button>
        <span className="toolbar-sep" />
        <button type="button" className="button" disabled={!history.canUndo || busy} onClick={() => void undoRedo('undo')} aria-keyshortcuts="Control+Z" data-testid="undo">
          Undo
        </button>
        <button type="button" className="button" disabled={!history.canRedo || busy} onClick={() => void undoRedo('redo')} aria-keyshortcuts="Control+Shift+Z" data-testid="redo">
          Redo
        </button>
        <span className="spacer" />
        <button type="button" className="button button-primary" disabled={!timeline || timeline.clips.length === 0} onClick={() => setExporting(true)} aria-keyshortcuts="Control+E" data-testid="export-open">
          Export…
        </button>
      </div>
      {list.error && <ErrorPanel error={list.error} title="The timelines could not be read" />}
      {error !== null && <ErrorPanel error={{ code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) }} title="The timeline could not be opened" />}

      {(!timeline || timeline.clips.length === 0) && !list.loading && (
        <div className="empty-state" role="note">
          <p>
            No clips yet. In History, pick a clip and choose “Send to timeline”; clips play here in order, and you can trim, split, speed up or slow down, reorder and undo, then export MP4, WebM, GIF or PNG frames.{' '}
            <button type="button" className="link-button" onClick={() => go('history')}>
              Open History
            </button>
          </p>
        </div>
      )}

      {timeline && timeline.clips.length > 0 && (
        <>
          <div className="tl-viewer" tabIndex={0} onKeyDown={onViewerKey} aria-label="Timeline viewer. Space plays or pauses; arrow keys step a frame." data-testid="viewer">
            <div className="tl-viewer-stage">
              <div className="gen-viewer-fit" style={{ '--aspect': String(aspect) } as CSSProperties}>
                <div className="media-box" style={{ aspectRatio: String(aspect) }}>
                  {at?.path && <img src={mediaUrl(at.path)} alt={`Frame ${pos + 1} of ${seq.length}`} draggable={false} data-testid="viewer-frame" />}
                  {at?.overlay?.path && <img src={mediaUrl(at.overlay.path)} alt="" draggable={false} style={{ opacity: at.overlay.alpha }} data-testid="viewer-overlay" />}
                </div>
              </div>
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
              <button type="button" className="button" onClick={split} disabled={busy} aria-keyshortcuts="S" data-testid="split">
                Split at playhead (S)
              </button>
              <label htmlFor={ids.zoom} className="zoom-label">
                Zoom
              </label>
              <input id={ids.zoom} type="range" min={ZOOM_MIN} max={ZOOM_MAX} step={10} value={zoom} onChange={(e) => setZoomChoice(e.target.valueAsNumber)} aria-valuetext={`${zoom} pixels per second`} data-testid="zoom" className="zoom" />
              <button type="button" className="button button-small" onClick={() => setZoomChoice(null)} aria-pressed={zoomChoice === null} data-testid="zoom-fit">
                Fit
              </button>
            </div>
          </div>

          <div className="track-scroll" ref={trackBox}>
            <div className="track-inner" style={{ width: trackWidth }}>
              <div className="ruler" ref={ruler} {...rulerPointer} data-testid="ruler" role="slider" tabIndex={-1} aria-label="Time ruler: drag to scrub" aria-valuemin={0} aria-valuemax={Math.round(duration)} aria-valuenow={Math.round(at?.startMs ?? 0)}>
                {ticks.map((s) => (
                  // A label that would run past the track's end sits on the left of its tick, so it is not cut.
                  <span key={s} className={msToPx(s * 1000, zoom) + TICK_LABEL_PX > Math.max(trackWidth, trackPx - 2 * TRACK_PAD_PX) ? 'tick tick-end' : 'tick'} style={{ left: msToPx(s * 1000, zoom) }}>
                    {s >= 60 ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}` : `${Number(s.toFixed(2))}s`}
                  </span>
                ))}
              </div>
              <ol className="track" data-testid="track">
                {timeline.clips.map((clip, i) => (
                  <ClipItem
                    key={clip.id}
                    clip={clip}
                    index={i}
                    count={timeline.clips.length}
                    widthPx={msToPx(spans[i].endMs - spans[i].startMs, zoom)}
                    overlapPx={i > 0 ? msToPx(spans[i - 1].endMs - spans[i].startMs, zoom) : 0}
                    frameWidthPx={msToPx(spans[i].frameMs, zoom)}
                    active={at?.clipIndex === i}
                    selected={clip.id === selectedId}
                    onSelect={() => setSelectedId(clip.id)}
                    onTrim={(inF, outF) => void mutate('Could not trim the clip', () => api.trimClip(clip.id, inF, outF))}
                    onMove={(to) => void mutate('Could not move the clip', () => api.moveClip(clip.id, to))}
                    onRemove={() => void mutate('Could not remove the clip', () => api.removeClip(clip.id))}
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
                      if (from !== null && from !== clip.id) void mutate('Could not move the clip', () => api.moveClip(from, i));
                    }}
                  />
                ))}
              </ol>
              <div className="playhead" style={{ left: playheadPx }} aria-hidden="true" data-testid="playhead" />
            </div>
          </div>

          {/* Right under the track, so the chosen clip's speed, crossfade and order are edited where it is. */}
          {selected && (
            <div className="clip-bar" role="group" aria-label={`Clip ${selectedIndex + 1}`} data-testid="clip-bar">
              <strong>
                Clip {selectedIndex + 1}: #{selected.generationId}
              </strong>
              <span className="muted clip-bar-prompt">{selected.source.prompt}</span>
              <label htmlFor={ids.speed}>Speed</label>
              <select id={ids.speed} value={selected.speed} data-testid="clip-speed" onChange={(e) => void mutate('Could not change the speed', () => api.setClipSpeed(selected.id, Number(e.target.value)))}>
                {[...new Set([...SPEEDS, selected.speed])]
                  .sort((a, b) => a - b)
                  .map((s) => (
                    <option key={s} value={s}>
                      {s}×
                    </option>
                  ))}
              </select>
              {selectedIndex > 0 && (
                <>
                  <label htmlFor={ids.fade}>Crossfade in</label>
                  <select id={ids.fade} value={selected.crossfade} data-testid="clip-crossfade" onChange={(e) => void mutate('Could not change the crossfade', () => api.setClipCrossfade(selected.id, Number(e.target.value)))}>
                    {[...new Set([...CROSSFADES, selected.crossfade])]
                      .sort((a, b) => a - b)
                      .map((s) => (
                        <option key={s} value={s}>
                          {s === 0 ? 'None (cut)' : `${s} s`}
                        </option>
                      ))}
                  </select>
                  {crossfadeTooLong(timeline, selectedIndex) && (
                    <span className="warning-line" role="alert" data-testid="crossfade-too-long">
                      Longer than a clip it joins: export will refuse it until it is shorter.
                    </span>
                  )}
                </>
              )}
              <button type="button" className="button button-small" aria-label={`Move clip ${selectedIndex + 1} left`} disabled={selectedIndex === 0} onClick={() => void mutate('Could not move the clip', () => api.moveClip(selected.id, selectedIndex - 1))}>
                ← Earlier
              </button>
              <button
                type="button"
                className="button button-small"
                aria-label={`Move clip ${selectedIndex + 1} right`}
                disabled={selectedIndex === timeline.clips.length - 1}
                onClick={() => void mutate('Could not move the clip', () => api.moveClip(selected.id, selectedIndex + 1))}
              >
                Later →
              </button>
              <button type="button" className="button button-small" aria-label={`Duplicate clip ${selectedIndex + 1}`} onClick={() => void mutate('Could not duplicate the clip', () => api.duplicateClip(selected.id))}>
                Duplicate
              </button>
              <button type="button" className="button button-small button-danger" aria-label={`Remove clip ${selectedIndex + 1}`} onClick={() => void mutate('Could not remove the clip', () => api.removeClip(selected.id))}>
                Remove
              </button>
            </div>
          )}
          {/* One line at 1280 px, so with the clip bar open it is still in view above the fold. */}
          <p id="clip-keys" className="field-hint">
            Drag the ruler to scrub (snaps to clip edges) · drag a clip, or Alt+← / Alt+→, to reorder · drag a trim handle, or focus it and use ← / → · Delete removes the focused clip.
          </p>
          {exporting && <ExportDialog timelineId={timeline.id} width={first?.width ?? 512} height={first?.height ?? 512} onClose={() => setExporting(false)} />}
        </>
      )}
    </section>
  );
}
