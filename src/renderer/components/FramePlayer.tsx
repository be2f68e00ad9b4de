import { useEffect, useRef, useState } from 'react';

/**
 * Plays a clip's PNG frames at its fps inside a fixed-aspect box. Frames are preloaded before playing so the
 * first loop does not flicker; while paused it shows `frame` (or the first frame). `onFrame` reports the frame on
 * screen (the timeline's playhead follows it).
 */
export function FramePlayer({
  urls,
  fps,
  aspect,
  playing,
  frame,
  onFrame,
  label,
  loop = true,
  testId,
}: {
  urls: string[];
  fps: number;
  aspect: number;
  playing: boolean;
  frame?: number;
  onFrame?: (index: number) => void;
  label: string;
  loop?: boolean;
  testId?: string;
}) {
  const [shown, setShown] = useState(frame ?? 0);
  const onFrameRef = useRef(onFrame);
  onFrameRef.current = onFrame;

  useEffect(() => {
    if (frame !== undefined) setShown(frame);
  }, [frame]);

  useEffect(() => {
    if (!playing || urls.length < 2) return;
    // Preload: the browser caches them, the img below then swaps without a fetch.
    for (const u of urls) {
      const img = new Image();
      img.src = u;
    }
    const timer = setInterval(() => {
      setShown((s) => {
        const next = s + 1 >= urls.length ? (loop ? 0 : s) : s + 1;
        onFrameRef.current?.(next);
        return next;
      });
    }, 1000 / Math.max(1, fps));
    return () => clearInterval(timer);
  }, [playing, urls, fps, loop]);

  const url = urls[Math.min(shown, urls.length - 1)];
  return (
    <div className="media-box" style={{ aspectRatio: String(aspect) }}>
      {url ? <img src={url} alt={label} draggable={false} data-testid={testId} /> : <span className="media-placeholder">No frames</span>}
    </div>
  );
}
