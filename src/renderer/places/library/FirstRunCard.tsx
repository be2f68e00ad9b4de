import { useState } from 'react';
import type { LibraryItem } from '../../../shared/domain/library';
import { STARTER_FILES, type StarterFile } from '../../../shared/domain/starter-files';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';

/** A file is there when the library holds its bytes (published hash) or, without a hash, its file name. */
function present(f: StarterFile, items: readonly LibraryItem[]): boolean {
  if (f.id === 'sd15-checkpoint') return items.some((i) => i.kind === 'checkpoint' && i.supported);
  return items.some((i) => (f.sha256 ? i.sha256 === f.sha256 : i.path.endsWith(f.fileName)));
}

/**
 * Getting started: what AnimateLCM needs, where it comes from, how large it is, and a download button (resumable,
 * hash-checked, imported when done). Shown while a required file is missing.
 */
export function FirstRunCard({ version, onImported }: { version: number; onImported: () => void }) {
  const { api } = useStudio();
  // Every kind, not only the tab on show: presence is judged on the whole library.
  const loaded = useLoad(() => Promise.all([api.listModels(), api.listLoras()]).then(([m, l]) => [...m, ...l]), [api, version]);
  const items = loaded.value ?? [];
  const [downloading, setDownloading] = useState<Record<string, number | null>>({});
  const [error, setError] = useState<SerializedError | null>(null);
  if (!loaded.value || STARTER_FILES.filter((f) => !f.optional).every((f) => present(f, items))) return null;

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

  return (
    <section className="first-run card" aria-label="Getting started" data-testid="first-run">
      <h2>Getting started</h2>
      <p>AnimateLCM needs these files. Add your model folder above if you already have them, or download them here.</p>
      <ul>
        {STARTER_FILES.map((f) => (
          <li key={f.id} data-testid={`starter-${f.id}`}>
            <strong>{f.fileName}</strong> — {f.role} · {f.sizeLabel}
            {f.optional ? ' · optional' : ''}
            {f.url && (
              <>
                {' · '}
                <a href={f.source} target="_blank" rel="noreferrer">
                  {f.source.replace('https://', '')}
                </a>
              </>
            )}
            {present(f, items) ? (
              <span className="starter-ok"> ✓ in your library</span>
            ) : f.id in downloading ? (
              <>
                <ProgressBar fraction={downloading[f.id]} label={`Downloading ${f.fileName}`} />
                <button type="button" className="button subtle" onClick={() => void api.cancelStarterDownload(f.id)}>
                  Cancel
                </button>
              </>
            ) : (
              f.url && (
                <button type="button" className="button" onClick={() => void download(f)}>
                  Download
                </button>
              )
            )}
          </li>
        ))}
      </ul>
      {error && <ErrorPanel error={error} title="Download" />}
    </section>
  );
}
