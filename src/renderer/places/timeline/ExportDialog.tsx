import { useEffect, useId, useRef, useState } from 'react';
import type { ExportFormat, ExportOptions, ExportProgressEvent } from '../../../shared/api';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { Slider } from '../../components/Slider';
import { useStudio } from '../../state/studio-api';

const FORMATS: { value: ExportFormat; label: string }[] = [
  { value: 'mp4', label: 'MP4 (H.264) — plays everywhere' },
  { value: 'webm', label: 'WebM (VP9) — for the web' },
  { value: 'gif', label: 'GIF — loops in chats' },
  { value: 'png', label: 'PNG frames — lossless, for editing' },
];

const SIZES = [
  { value: 'source', label: 'Clip size' },
  { value: '2', label: '2× (upscaled)' },
  { value: '0.5', label: 'Half size' },
];

/**
 * Export the timeline: format, quality, size; then progress and, when done, where the file is (and a link that
 * opens it, for formats a browser plays).
 */
export function ExportDialog({ timelineId, width, height, onClose }: { timelineId: number; width: number; height: number; onClose: () => void }) {
  const { api, mediaUrl } = useStudio();
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = { format: useId(), size: useId() };
  const [format, setFormat] = useState<ExportFormat>('mp4');
  const [quality, setQuality] = useState(75);
  const [size, setSize] = useState('source');
  const [progress, setProgress] = useState<ExportProgressEvent | null>(null);
  const [exportId, setExportId] = useState<string | null>(null);
  const [error, setError] = useState<SerializedError | null>(null);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  // Listen from the start: a short export can finish before exportTimeline's answer arrives.
  const seen = useRef(new Map<string, ExportProgressEvent>());
  const [, setTick] = useState(0);
  useEffect(
    () =>
      api.onExportProgress((e) => {
        seen.current.set(e.exportId, e);
        setTick((t) => t + 1);
      }),
    [api],
  );
  const latest = exportId ? seen.current.get(exportId) : undefined;
  useEffect(() => {
    if (!latest) return;
    setProgress(latest);
    if (latest.error) setError(latest.error);
  }, [latest]);

  const start = async () => {
    setError(null);
    setProgress(null);
    const scale = size === 'source' ? 1 : Number(size);
    // Even sides: H.264 with yuv420p needs them.
    const even = (v: number) => Math.max(2, Math.round((v * scale) / 2) * 2);
    const options: ExportOptions = { format, quality, ...(scale !== 1 ? { width: even(width), height: even(height) } : {}) };
    try {
      const r = await api.exportTimeline(timelineId, options);
      setExportId(r.exportId);
      setProgress({ exportId: r.exportId, status: 'queued', fraction: 0 });
    } catch (e) {
      setError(serializeError(e));
    }
  };

  const running = progress !== null && (progress.status === 'queued' || progress.status === 'running');
  const done = progress?.status === 'done' ? progress.outputPath : undefined;

  return (
    <dialog ref={dialog} className="export-dialog" onClose={onClose} aria-labelledby="export-title" data-testid="export-dialog">
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        <h2 id="export-title">Export the timeline</h2>
        <div className="field">
          <label htmlFor={ids.format}>Format</label>
          <select id={ids.format} value={format} onChange={(e) => setFormat(e.target.value as ExportFormat)} disabled={running} data-testid="export-format">
            {FORMATS.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
        {format !== 'png' && <Slider label="Quality" value={quality} min={0} max={100} step={5} onChange={setQuality} hint="Higher is sharper and larger." />}
        <div className="field">
          <label htmlFor={ids.size}>Size</label>
          <select id={ids.size} value={size} onChange={(e) => setSize(e.target.value)} disabled={running}>
            {SIZES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label} ({s.value === 'source' ? `${width}×${height}` : `${Math.round(width * Number(s.value))}×${Math.round(height * Number(s.value))}`})
              </option>
            ))}
          </select>
        </div>
        {progress && (
          <div className="export-progress" data-testid="export-progress" data-status={progress.status}>
            <ProgressBar fraction={progress.fraction} label="Export progress" />
            <p aria-live="polite">
              {progress.status === 'queued' ? 'Starting…' : progress.status === 'running' ? `Encoding… ${Math.round(progress.fraction * 100)}%` : progress.status === 'done' ? 'Done.' : progress.status === 'cancelled' ? 'Cancelled.' : 'Failed.'}
            </p>
          </div>
        )}
        {done && (
          <p className="export-done">
            Saved to{' '}
            {format === 'png' ? (
              <code data-testid="export-path">{done}</code>
            ) : (
              <a href={mediaUrl(done)} target="_blank" rel="noreferrer" data-testid="export-path" data-path={done}>
                {done}
              </a>
            )}
          </p>
        )}
        {error && <ErrorPanel error={error} title="The export did not finish" />}
        <div className="form-actions">
          {running ? (
            <button type="button" className="button" onClick={() => exportId && void api.cancelExport(exportId)}>
              Cancel export
            </button>
          ) : (
            <button type="submit" className="button button-primary" data-testid="export-start">
              {done ? 'Export again' : 'Export'}
            </button>
          )}
          <button type="button" className="button" onClick={() => dialog.current?.close()}>
            Close
          </button>
        </div>
      </form>
    </dialog>
  );
}
