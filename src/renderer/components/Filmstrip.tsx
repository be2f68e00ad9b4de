/**
 * A clip as a strip of evenly spaced frames (at most `max`), with the trimmed-away parts dimmed. The strip is a
 * picture of the clip, not a control: trimming and the playhead are drawn over it by the timeline.
 */
export function Filmstrip({ urls, max = 8, inFrame = 0, outFrame, label }: { urls: string[]; max?: number; inFrame?: number; outFrame?: number; label: string }) {
  const n = urls.length;
  const end = outFrame ?? n;
  const count = Math.min(max, n);
  const picks = Array.from({ length: count }, (_, i) => Math.min(n - 1, Math.floor(((i + 0.5) * n) / count)));
  return (
    <div className="filmstrip" role="img" aria-label={label}>
      {picks.map((f, i) => (
        <img key={i} src={urls[f]} alt="" draggable={false} className={f < inFrame || f >= end ? 'trimmed' : undefined} />
      ))}
    </div>
  );
}
