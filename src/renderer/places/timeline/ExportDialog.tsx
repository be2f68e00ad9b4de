import { useEffect, useId, useRef, useState } from 'react';
import type { ExportFormat, ExportOptions, ExportProgressEvent } from '../../../shared/api';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { Slider } from '../../components/Slider';
import { useStudio } from '../../state/studio-api';
import { nextExportName } from './next-export-name';

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
 * Export the timeline: format, quality, size, where; then progress and, when done, where the file is (and a link
 * that opens it, for formats a browser plays). Where: a name in the data folder's exports/ (empty: a free
 * default name), or on the desktop a path from the system's save dialog. An existing name is never replaced (the
 * service refuses it), except a file the save dialog confirmed; "Export again" moves on to the next name.
 */
export function ExportDialog({ timelineId, width, height, onClose }: { timelineId: number; width: number; height: number; onClose: () => void }) {
  const { api, mode, mediaUrl } = useStudio();
  const dialog = useRef<HTMLDialogElement>(null);
  const ids = { format: useId(), size: useId(), name: useId() };
  const suggested = `timeline-${timelineId}`;
  const [name, setName] = useState('');
  /** A path from the save dialog; `confirmed`: the dialog asked before replacing it. */
  const [chosen, setChosen] = useState<{ path: string; confirmed: boolean } | null>(null);
  const [savedOutside, setSavedOutside] = useState(false);
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
  const advanced = useRef(new Set<string>());
  useEffect(() => {
    if (!latest) return;
    setProgress(latest);
    if (latest.error) setError(latest.error);
    // Once per finished export: the next one goes to a new name, never over this file.
    if (latest.status === 'done' && !advanced.current.has(latest.exportId)) {
      advanced.current.add(latest.exportId);
      setChosen((c) => (c ? { path: nextExportName(c.path), confirmed: false } : c));
      setName((n) => (n.trim() ? nextExportName(n.trim()) : n));
    }
  }, [latest]);

  const choose = async () => {
    setError(null);
    try {
      const path = await api.chooseExportPath(name.trim() || suggested, format);
      if (path) setChosen({ path, confirmed: true });
    } catch (e) {
      setError(serializeError(e));
    }
  };

  const start = async () => {
    setError(null);
    setProgress(null);
    const scale = size === 'source' ? 1 : Number(size);
    // Even sides: H.264 with yuv420p needs them.
    const even = (v: number) => Math.max(2, Math.round((v * scale) / 2) * 2);
    const where: Partial<ExportOptions> = chosen
      ? { outputPath: chosen.path, ...(chosen.confirmed && format !== 'png' ? { overwrite: true } : {}) }
      : name.trim()
        ? { name: name.trim() }
        : {};
    const options: ExportOptions = { format, quality, ...where, ...(scale !== 1 ? { width: even(width), height: even(height) } : {}) };
    setSavedOutside(chosen !== null);
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
          <select
            id={ids.format}
            value={format}
            onChange={(e) => {
              setFormat(e.target.value as ExportFormat);
              setChosen(null); // the chosen file name carries the old format's extension
            }}
            disabled={running}
            data-testid="export-format"
          >
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
        <div className="field">
          <label htmlFor={ids.name}>{format === 'png' ? 'Folder name' : 'File name'}</label>
          {chosen ? (
            <code data-testid="export-chosen">{chosen.path}</code>
          ) : (
            <input id={ids.name} type="text" value={name} placeholder={suggested} maxLength={200} onChange={(e) => setName(e.target.value)} disabled={running} data-testid="export-name" />
          )}
          {mode === 'electron' && (
            <button type="button" className="button" onClick={() => void choose()} disabled={running} data-testid="export-choose">
              Choose where…
            </button>
          )}
          <p className="field-hint">
            {chosen ? 'Saved where you chose.' : "Saved in the data folder's exports/."} An existing {format === 'png' ? 'folder with files' : 'file'} is never replaced
            {chosen?.confirmed && format !== 'png' ? ' unless you confirmed it in the dialog' : ''}.
          </p>
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
            {format === 'png' || savedOutside ? (
              <code data-testid="export-path" data-path={done}>
                {done}
              </code>
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
