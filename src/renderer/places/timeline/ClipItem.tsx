import { useRef, useState, type DragEvent, type KeyboardEvent, type PointerEvent } from 'react';
import type { TimelineClip } from '../../../shared/domain/timeline';
import { Filmstrip } from '../../components/Filmstrip';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { clipFrameCount } from './sequence';

/**
 * One clip on the track, as wide as it lasts on the time axis: its kept frames as a filmstrip, a trim handle at
 * each edge (drag, or focus and use the arrow keys), drag to reorder (or Alt+←/→ while focused), click to select
 * and seek. Its actions (speed, split, duplicate, remove) are in the clip bar under the track.
 */
export function ClipItem({
  clip,
  index,
  count,
  widthPx,
  overlapPx,
  frameWidthPx,
  active,
  selected,
  onSelect,
  onTrim,
  onMove,
  onRemove,
  onSeek,
  onDragStart,
  onDropOn,
}: {
  clip: TimelineClip;
  index: number;
  count: number;
  widthPx: number;
  /** How far the clip reaches back over the previous one (its crossfade), in pixels. */
  overlapPx: number;
  /** Pixels one source frame takes at this zoom and speed. */
  frameWidthPx: number;
  active: boolean;
  selected: boolean;
  onSelect: () => void;
  onTrim: (inFrame: number, outFrame: number) => void;
  onMove: (position: number) => void;
  onRemove: () => void;
  onSeek: (sourceFrame: number) => void;
  onDragStart: () => void;
  onDropOn: () => void;
}) {
  const { mediaUrl } = useStudio();
  const n = clipFrameCount(clip);
  const urls = framePaths(clip.source.outputs).map(mediaUrl);
  // While a handle is dragged the trim is local; it is committed once on release.
  const [draft, setDraft] = useState<{ inFrame: number; outFrame: number; x0: number } | null>(null);
  const strip = useRef<HTMLDivElement>(null);
  const [dropTarget, setDropTarget] = useState(false);
  const inFrame = draft?.inFrame ?? clip.inFrame;
  const outFrame = draft?.outFrame ?? clip.outFrame;
  const shownWidth = Math.max(6, (outFrame - inFrame) * frameWidthPx);

  const handleDrag = (which: 'in' | 'out') => ({
    onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
      e.preventDefault();
      e.stopPropagation();
      e.currentTarget.setPointerCapture(e.pointerId);
      setDraft({ inFrame: clip.inFrame, outFrame: clip.outFrame, x0: e.clientX });
    },
    onPointerMove: (e: PointerEvent<HTMLDivElement>) => {
      if (!draft) return;
      const df = Math.round((e.clientX - draft.x0) / frameWidthPx);
      setDraft((d) =>
        d ? (which === 'in' ? { ...d, inFrame: Math.max(0, Math.min(clip.inFrame + df, d.outFrame - 1)) } : { ...d, outFrame: Math.min(n, Math.max(clip.outFrame + df, d.inFrame + 1)) }) : d,
      );
    },
    onPointerUp: () => {
      if (draft && (draft.inFrame !== clip.inFrame || draft.outFrame !== clip.outFrame)) onTrim(draft.inFrame, draft.outFrame);
      setDraft(null);
    },
    onClick: (e: { stopPropagation(): void }) => e.stopPropagation(),
    onKeyDown: (e: KeyboardEvent<HTMLDivElement>) => {
      const delta = e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? -1 : e.key === 'ArrowRight' || e.key === 'ArrowUp' ? 1 : 0;
      if (delta === 0) return;
      e.preventDefault();
      e.stopPropagation();
      if (which === 'in') {
        const v = Math.max(0, Math.min(clip.inFrame + delta, clip.outFrame - 1));
        if (v !== clip.inFrame) onTrim(v, clip.outFrame);
      } else {
        const v = Math.min(n, Math.max(clip.outFrame + delta, clip.inFrame + 1));
        if (v !== clip.outFrame) onTrim(clip.inFrame, v);
      }
    },
  });

  const onClipKey = (e: KeyboardEvent<HTMLLIElement>) => {
    if (e.target !== e.currentTarget) return;
    const action =
      e.altKey && e.key === 'ArrowLeft' && index > 0 ? () => onMove(index - 1)
      : e.altKey && e.key === 'ArrowRight' && index < count - 1 ? () => onMove(index + 1)
      : e.key === 'Delete' ? onRemove
      : e.key === 'Enter' ? onSelect
      : null;
    if (!action) return;
    e.preventDefault();
    action();
  };

  const seconds = ((outFrame - inFrame) / (clip.source.fps * clip.speed)).toFixed(2);
  const label = `Clip ${index + 1} of ${count}: ${clip.source.prompt || 'no prompt'}, frames ${inFrame + 1}–${outFrame} of ${n}, ${seconds} s${clip.speed !== 1 ? ` at ${clip.speed}×` : ''}`;
  return (
    <li
      className={`clip${overlapPx > 0 ? ' clip-fading' : ''}${active ? ' clip-active' : ''}${selected ? ' clip-selected' : ''}${dropTarget ? ' clip-drop' : ''}`}
      style={{ width: draft ? shownWidth : widthPx, marginLeft: overlapPx > 0 ? -overlapPx : undefined }}
      tabIndex={0}
      aria-label={label}
      aria-describedby="clip-keys"
      aria-current={selected ? 'true' : undefined}
      data-testid="clip"
      data-clip-id={clip.id}
      data-generation-id={clip.generationId}
      data-in={clip.inFrame}
      data-out={clip.outFrame}
      data-speed={clip.speed}
      data-crossfade={clip.crossfade}
      draggable
      onKeyDown={onClipKey}
      onFocus={(e) => e.target === e.currentTarget && onSelect()}
      onDragStart={(e: DragEvent) => {
        e.dataTransfer.effectAllowed = 'move';
        e.dataTransfer.setData('text/plain', String(clip.id));
        onDragStart();
      }}
      onDragOver={(e) => {
        e.preventDefault();
        setDropTarget(true);
      }}
      onDragLeave={() => setDropTarget(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDropTarget(false);
        onDropOn();
      }}
    >
      <div
        className="clip-strip"
        ref={strip}
        onClick={(e) => {
          onSelect();
          const r = strip.current?.getBoundingClientRect();
          if (r) onSeek(Math.min(outFrame - 1, Math.max(inFrame, inFrame + Math.floor((e.clientX - r.left) / frameWidthPx))));
        }}
      >
        <Filmstrip urls={urls.slice(inFrame, outFrame)} max={Math.max(1, Math.floor(shownWidth / 40))} label="" />
        <span className="clip-label" aria-hidden="true">
          #{clip.generationId}
          {clip.speed !== 1 ? ` · ${clip.speed}×` : ''}
          {clip.crossfade > 0 && index > 0 ? ` · ⤫ ${clip.crossfade}s` : ''}
        </span>
        <div className="trim-handle trim-in" role="slider" tabIndex={0} aria-label={`Trim start of clip ${index + 1}`} aria-valuemin={0} aria-valuemax={outFrame - 1} aria-valuenow={inFrame} data-testid="trim-in" {...handleDrag('in')} />
        <div className="trim-handle trim-out" role="slider" tabIndex={0} aria-label={`Trim end of clip ${index + 1}`} aria-valuemin={inFrame + 1} aria-valuemax={n} aria-valuenow={outFrame} data-testid="trim-out" {...handleDrag('out')} />
      </div>
    </li>
  );
}
