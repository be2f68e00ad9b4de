import { useEffect, useState } from 'react';
import { STARTER_FILES, starterProgress, type StarterFile } from '../../../shared/domain/starter-files';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';
import { foldedAt, rememberFold } from './first-run-fold';

/**
 * Getting started: what AnimateLCM needs, where it comes from, how large it is, and a download button (resumable,
 * hash-checked, imported when done). Open while a required file is missing; once they are all in the library it
 * folds to one line (the optional I2V pair stays one click away) so the library's own items are in view.
 */
export function FirstRunCard({ version, onImported }: { version: number; onImported: () => void }) {
  const { api } = useStudio();
  // Every kind, not only the tab on show: presence is judged on the whole library.
  const loaded = useLoad(() => Promise.all([api.listModels(), api.listLoras()]).then(([m, l]) => [...m, ...l]), [api, version]);
  const items = loaded.value ?? [];
  const [downloading, setDownloading] = useState<Record<string, number | null>>({});
  const [error, setError] = useState<SerializedError | null>(null);
  const progress = starterProgress(items);
  // Follows the library (folds when the last required file arrives, opens again if one goes away) and the
  // creator: folded by hand, it stays folded on the next visit while the library still holds as many files.
  const openFor = (requiredDone: boolean, done: number) => !requiredDone && foldedAt() !== done;
  const [open, setOpen] = useState(() => openFor(progress.requiredDone, progress.required.done));
  useEffect(() => setOpen(openFor(progress.requiredDone, progress.required.done)), [progress.requiredDone, progress.required.done]);
  if (!loaded.value) return null;

  const download = async (f: StarterFile) => {
    setError(null);
    setDownloading((d) => ({ ...d, [f.id]: null }));
    const off = api.onFolderProgress((p) => {
      if (p.folderId === 0 && p.path === f.fileName && p.total > 0) setDownloading((d) => ({ ...d, [f.id]: p.done / p.total }));
    });
    try {
      await api.downloadStarterFile(f.id);
      await loaded.reload();
      onImported();
    } catch (e) {
      setError(serializeError(e));
    } finally {
      off();
      setDownloading(({ [f.id]: _done, ...rest }) => rest);
    }
  };

  const summary = progress.requiredDone
    ? `Getting started · the required files are in your library ✓ · optional image-to-video pair: ${progress.optional.done} of ${progress.optional.of}`
    : `Getting started · ${progress.required.done} of ${progress.required.of} required files in your library`;
  return (
    <details
      className="first-run card"
      aria-label="Getting started"
      data-testid="first-run"
      data-done={progress.requiredDone || undefined}
      open={open}
      onToggle={(e) => {
        const now = e.currentTarget.open;
        if (now === open) return; // the toggle React itself made
        setOpen(now);
        if (!progress.requiredDone) rememberFold(now ? null : progress.required.done);
      }}
    >
      <summary>{summary}</summary>
      <p className="first-run-intro">AnimateLCM needs these files. Add your model folder above if you already have them, or download them here.</p>
      <ul className="starter-list">
        {STARTER_FILES.map((f) => (
          <li key={f.id} className="starter-row" data-testid={`starter-${f.id}`}>
            {/* The file's name reads first; what it is, its size and source follow in the smaller hint type, so a
                row is one line at 1280 px and the library's search stays above the fold with the card open. */}
            <div className="starter-text">
              <strong>{f.fileName}</strong>
              <span className="starter-about">
                {' — '}
                {f.role} · {f.sizeLabel}
                {/* Said once: the image-to-video pair's role already says "optional", and a second one read as a stutter. */}
                {f.optional && !/optional/i.test(f.role) ? ' · optional' : ''}
                {f.url && (
                  <>
                    {' · '}
                    <a href={f.source} target="_blank" rel="noreferrer">
                      {f.source.replace('https://', '')}
                    </a>
                  </>
                )}
              </span>
            </div>
            <div className="starter-action">
              {progress.present.has(f.id) ? (
                <span className="starter-ok">✓ in your library</span>
              ) : f.id in downloading ? (
                <>
                  <ProgressBar fraction={downloading[f.id]} label={`Downloading ${f.fileName}`} />
                  <button type="button" className="button button-small subtle" onClick={() => void api.cancelStarterDownload(f.id)}>
                    Cancel
                  </button>
                </>
              ) : (
                f.url && (
                  <button type="button" className="button button-small" onClick={() => void download(f)} aria-label={`Download ${f.fileName}`}>
                    Download
                  </button>
                )
              )}
            </div>
          </li>
        ))}
      </ul>
      {error && <ErrorPanel error={error} title="Download" />}
    </details>
  );
}
