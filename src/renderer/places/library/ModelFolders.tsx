import { useEffect, useId, useRef, useState } from 'react';
import type { FolderLayout, ModelFolder } from '../../../shared/domain/library';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';

/**
 * Model folders indexed in place: add an A1111 / ComfyUI root or any folder, see each folder's state (indexed,
 * hashing n of m, offline) and why files were skipped. The library list reloads when hashing settles.
 */
export function ModelFolders({ onChanged }: { onChanged: () => void }) {
  const { api } = useStudio();
  const ids = { path: useId(), layout: useId() };
  const folders = useLoad(() => api.listModelFolders(), [api]);
  const [path, setPath] = useState('');
  const [layout, setLayout] = useState<FolderLayout | ''>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<SerializedError | null>(null);

  // Hashing progress arrives as events; the counts come from a reload (at most a few times a second). Subscribed
  // once per connection: the latest reload/onChanged are read through a ref, so a re-render never drops a timer.
  const latest = useRef({ reload: folders.reload, onChanged });
  latest.current = { reload: folders.reload, onChanged };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let finished = false;
    const off = api.onFolderProgress((p) => {
      if (p.folderId === 0) return;
      finished ||= p.done === p.total;
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void latest.current.reload();
        if (finished) latest.current.onChanged();
        finished = false;
      }, 300);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [api]);

  const add = async () => {
    setBusy(true);
    setError(null);
    try {
      // No second argument for "detect": an undefined argument would cross the socket as null.
      await (layout ? api.addModelFolder(path.trim(), layout) : api.addModelFolder(path.trim()));
      setPath('');
      await folders.reload();
      onChanged();
    } catch (e) {
      setError(serializeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="model-folders" aria-label="Model folders" data-testid="model-folders">
      <h2>Model folders</h2>
      <form
        className="import-path"
        onSubmit={(e) => {
          e.preventDefault();
          if (path.trim()) void add();
        }}
      >
        <label htmlFor={ids.path}>Add a folder (indexed where it is, never copied)</label>
        <input id={ids.path} value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/stable-diffusion-webui" spellCheck={false} data-testid="folder-path" />
        <label htmlFor={ids.layout}>Layout</label>
        <select id={ids.layout} value={layout} onChange={(e) => setLayout(e.target.value as FolderLayout | '')} data-testid="folder-layout">
          <option value="">Detect</option>
          <option value="a1111">A1111 / Forge</option>
          <option value="comfyui">ComfyUI</option>
          <option value="plain">Any folder</option>
        </select>
        <button type="submit" className="button" disabled={!path.trim() || busy} data-testid="folder-add">
          Add folder
        </button>
      </form>
      {error && <ErrorPanel error={error} title="Model folder" />}
      <ul className="folder-list">
        {(folders.value ?? []).map((f: ModelFolder) => (
          <li key={f.id} className={f.status === 'offline' ? 'offline' : undefined} data-testid="folder-row">
            <span className="folder-path">{f.path}</span> <span className="folder-layout">{f.layout}</span>{' '}
            {f.status === 'offline' ? (
              <span className="folder-state">Offline — its models are kept and come back with the drive</span>
            ) : f.pending > 0 ? (
              <>
                <span className="folder-state">
                  Hashing {f.done + f.failed} of {f.files}
                </span>
                <ProgressBar fraction={f.files ? (f.done + f.failed) / f.files : null} label={`Hashing ${f.path}`} />
              </>
            ) : (
              <span className="folder-state">
                {f.done} model(s){f.failed ? `, ${f.failed} skipped` : ''}
              </span>
            )}
            {f.note && <p className="folder-note">{f.note}</p>}
            <button
              type="button"
              className="button subtle"
              onClick={() => void api.removeModelFolder(f.id).then(() => folders.reload())}
              title="Forget this folder (your files are not touched)"
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
