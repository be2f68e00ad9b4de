import { useEffect, useRef } from 'react';
import type { DecodedPreview } from '../state/preview-frames';

/**
 * Plays the per-step preview frames (small RGB images of the current x0) as a loop at the clip's fps. The box has
 * the clip's aspect ratio from the start, so nothing moves when the first preview arrives; frames are upscaled by
 * CSS, smoothly, since a 64-pixel preview looks calmer blurred than blocky.
 */
export function PreviewCanvas({ preview, fps, aspect, label, placeholder = 'Preview appears with the first step', testId }: { preview: DecodedPreview | null; fps: number; aspect: number; label: string; placeholder?: string; testId?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !preview || preview.frames.length === 0) return;
    c.width = preview.width;
    c.height = preview.height;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    let frame = 0;
    ctx.putImageData(preview.frames[0], 0, 0);
    if (preview.frames.length === 1) return;
    const timer = setInterval(() => {
      frame = (frame + 1) % preview.frames.length;
      ctx.putImageData(preview.frames[frame], 0, 0);
    }, 1000 / Math.max(1, fps));
    return () => clearInterval(timer);
  }, [preview, fps]);

  return (
    <div className="media-box" style={{ aspectRatio: String(aspect) }}>
      {preview ? <canvas ref={canvas} role="img" aria-label={label} data-testid={testId} /> : <span className="media-placeholder">{placeholder}</span>}
    </div>
  );
}
