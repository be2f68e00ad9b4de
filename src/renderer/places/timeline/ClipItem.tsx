import { useRef, useState, type DragEvent, type KeyboardEvent, type PointerEvent } from 'react';
import type { TimelineClip } from '../../../shared/domain/timeline';
import { Filmstrip } from '../../components/Filmstrip';
import { Icon } from '../../components/Icon';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { clipFrameCount } from './sequence';

export const PX_PER_FRAME = 22;
const MIN_CLIP_PX = 168;

export function clipWidth(clip: TimelineClip): number {
  return Math.max(MIN_CLIP_PX, clipFrameCount(clip) * PX_PER_FRAME);
}

/**
 * One clip on the track: its filmstrip at full source length with the trimmed parts dimmed, two trim handles
 * (drag, or focus and use the arrow keys), drag to reorder (or Alt+←/→ while the clip is focused), and its actions.
 */
export function ClipItem({
  clip,
  index,
  count,
  active,
  onTrim,
  onMove,
  onRemove,
  onDuplicate,
  onSeek,
  onDragStart,
  onDropOn,
}: {
  clip: TimelineClip;
  index: number;
  count: number;
  active: boolean;
  onTrim: (inFrame: number, outFrame: number) => void;
  onMove: (position: number) => void;
  onRemove: () => void;
  onDuplicate: () => void;
  onSeek: (sourceFrame: number) => void;
  onDragStart: () => void;
  onDropOn: () => void;
}) {
  const { mediaUrl } = useStudio();
  const n = clipFrameCount(clip);
  const width = clipWidth(clip);
  const perFrame = width / n;
  const urls = framePaths(clip.source.outputs).map(mediaUrl);
  // While a handle is dragged the trim is local; it is committed once on release.
  const [draft, setDraft] = useState<{ inFrame: number; outFrame: number } | null>(null);
  const strip = useRef<HTMLDivElement>(null);
  const [dropTarget, setDropTarget] = useState(false);
  const inFrame = draft?.inFrame ?? clip.inFrame;
  const outFrame = draft?.outFrame ?? clip.outFrame;

  const frameAt = (clientX: number) => {
    const r = strip.current?.getBoundingClientRect();
    if (!r) return 0;
    return Math.round((clientX - r.left) / perFrame);
  };

  const handleDrag = (which: 'in' | 'out') => ({
    onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
      e.preventDefault();
      e.stopPropagation();
      e.currentTarget.setPointerCapture(e.pointerId);
      setDraft({ inFrame: clip.inFrame, outFrame: clip.outFrame });
    },
    onPointerMove: (e: PointerEvent<HTMLDivElement>) => {
      if (!draft) return;
      const f = frameAt(e.clientX);
      setDraft((d) => (d ? (which === 'in' ? { ...d, inFrame: Math.max(0, Math.min(f, d.outFrame - 1)) } : { ...d, outFrame: Math.min(n, Math.max(f, d.inFrame + 1)) }) : d));
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
      : null;
    if (!action) return;
    e.preventDefault();
    action();
  };

  const label = `Clip ${index + 1} of ${count}: ${clip.source.prompt || 'no prompt'}, frames ${inFrame + 1}–${outFrame} of ${n}`;
  return (
    <li
      className={`clip${active ? ' clip-active' : ''}${dropTarget ? ' clip-drop' : ''}`}
      style={{ width }}
      tabIndex={0}
      aria-label={label}
      aria-describedby="clip-keys"
      data-testid="clip"
      data-clip-id={clip.id}
      data-generation-id={clip.generationId}
      data-in={clip.inFrame}
      data-out={clip.outFrame}
      draggable
      onKeyDown={onClipKey}
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
      <div className="clip-strip" ref={strip} onClick={(e) => onSeek(Math.min(n - 1, Math.max(0, Math.floor(frameAt(e.clientX)))))}>
        <Filmstrip urls={urls} max={Math.max(1, Math.floor(width / 48))} inFrame={inFrame} outFrame={outFrame} label="" />
        <div className="trim-shade" style={{ left: 0, width: inFrame * perFrame }} />
        <div className="trim-shade" style={{ left: outFrame * perFrame, right: 0 }} />
        <div
          className="trim-handle trim-in"
          style={{ left: inFrame * perFrame }}
          role="slider"
          tabIndex={0}
          aria-label={`Trim start of clip ${index + 1}`}
          aria-valuemin={0}
          aria-valuemax={outFrame - 1}
          aria-valuenow={inFrame}
          data-testid="trim-in"
          {...handleDrag('in')}
        />
        <div
          className="trim-handle trim-out"
          style={{ left: outFrame * perFrame }}
          role="slider"
          tabIndex={0}
          aria-label={`Trim end of clip ${index + 1}`}
          aria-valuemin={inFrame + 1}
          aria-valuemax={n}
          aria-valuenow={outFrame}
          data-testid="trim-out"
          {...handleDrag('out')}
        />
      </div>
      <div className="clip-foot">
        <span className="clip-title" title={clip.source.prompt}>
          #{clip.generationId} · {outFrame - inFrame}f
        </span>
        <button type="button" className="icon-button" aria-label={`Move clip ${index + 1} left`} disabled={index === 0} onClick={() => onMove(index - 1)}>
          ‹
        </button>
        <button type="button" className="icon-button" aria-label={`Move clip ${index + 1} right`} disabled={index === count - 1} onClick={() => onMove(index + 1)}>
          ›
        </button>
        <button type="button" className="icon-button" aria-label={`Duplicate clip ${index + 1}`} onClick={onDuplicate}>
          <Icon name="duplicate" size={14} />
        </button>
        <button type="button" className="icon-button" aria-label={`Remove clip ${index + 1}`} onClick={onRemove}>
          ×
        </button>
      </div>
    </li>
  );
}
