import { useId, useMemo, useRef, useState } from 'react';
import type { LibraryItem, LibraryKind } from '../../../shared/domain/library';
import { serializeError, type SerializedError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { ProgressBar } from '../../components/ProgressBar';
import { useFileDrop } from '../../components/use-file-drop';
import { useDraft } from '../../state/draft';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { uploadAndImport } from '../../state/upload';
import { useLoad } from '../../state/use-load';
import { DetailsPane } from './DetailsPane';
import { FirstRunCard } from './FirstRunCard';
import { LoraCard } from './LoraCard';
import { ModelFolders } from './ModelFolders';

/** Each tab's label, and its noun mid-sentence (names such as LoRA, VAE and ControlNet keep their capitals). */
const KINDS: { kind: LibraryKind; label: string; noun: string }[] = [
  { kind: 'lora', label: 'LoRAs', noun: 'LoRAs' },
  { kind: 'checkpoint', label: 'Checkpoints', noun: 'checkpoints' },
  { kind: 'motion', label: 'Motion modules', noun: 'motion modules' },
  { kind: 'embedding', label: 'Embeddings', noun: 'embeddings' },
  { kind: 'vae', label: 'VAEs', noun: 'VAEs' },
  { kind: 'controlnet', label: 'ControlNets', noun: 'ControlNets' },
];

const MODEL_EXTENSIONS = ['.safetensors', '.ckpt', '.pt', '.pth', '.bin'];

/**
 * The library: cards to scan, filters that narrow as you type, details on the side, import by path, file picker
 * or drop anywhere on the place. A file the studio cannot use is still listed, with the reason on its card.
 */
export function LibraryPlace() {
  const { api, go } = useStudio();
  const draft = useDraft();
  const toasts = useToasts();
  const ids = { search: useId(), family: useId(), tag: useId(), path: useId() };
  const [kind, setKind] = useState<LibraryKind>('lora');
  const [text, setText] = useState('');
  const [family, setFamily] = useState('');
  const [tag, setTag] = useState('');
  const [favourites, setFavourites] = useState(false);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [importPath, setImportPath] = useState('');
  const [importing, setImporting] = useState<{ name: string; fraction: number | null } | null>(null);
  const [importError, setImportError] = useState<SerializedError | null>(null);
  const [libraryVersion, setLibraryVersion] = useState(0);
  const fileInput = useRef<HTMLInputElement>(null);

  // Everything of this kind once; filters run locally so typing never waits on a round trip.
  const items = useLoad(() => (kind === 'lora' ? api.listLoras() : api.listModels({ kind })), [api, kind]);
  const all = useMemo(() => items.value ?? [], [items.value]);
  const families = useMemo(() => [...new Map(all.map((i) => [i.family, i.familyLabel])).entries()], [all]);
  const tags = useMemo(() => [...new Set(all.flatMap((i) => i.tags))].sort(), [all]);
  const needle = text.trim().toLowerCase();
  const shown = all.filter(
    (i) =>
      (!family || i.family === family) &&
      (!tag || i.tags.includes(tag)) &&
      (!favourites || i.favourite) &&
      (!needle || [i.name, i.path, ...i.triggerWords, ...i.tags].some((s) => s.toLowerCase().includes(needle))),
  );
  const selected = all.find((i) => i.id === selectedId) ?? null;

  const replaceItem = (item: LibraryItem) => items.set(all.map((i) => (i.id === item.id ? item : i)));

  const afterImport = async (item: LibraryItem, existing: boolean) => {
    await items.reload();
    const tab = item.kind === 'motion-lora' ? 'lora' : item.kind;
    if (tab !== kind) setKind(tab);
    setSelectedId(item.id);
    // A file the studio cannot use is reported as that, never as "Imported": its card keeps saying why.
    if (!item.supported) {
      const code = item.kind === 'lora' ? 'LORA_INCOMPATIBLE' : 'MODEL_FAMILY_UNSUPPORTED';
      setImportError({ code, message: `${item.name} (${item.familyLabel}) cannot be used: ${item.supportMessage ?? 'unknown layout.'} It is kept in the library, marked unusable.` });
      return;
    }
    toasts.info(existing ? `${item.name} was already in the library.` : `Imported ${item.name}.`);
  };

  const importByPath = async () => {
    const p = importPath.trim();
    if (!p) return;
    setImportError(null);
    setImporting({ name: p, fraction: null });
    try {
      const r = await api.importFile(p);
      setImportPath('');
      await afterImport(r.item, r.existing);
    } catch (e) {
      setImportError(serializeError(e));
    } finally {
      setImporting(null);
    }
  };

  const importFiles = async (files: File[]) => {
    setImportError(null);
    for (const file of files) {
      if (!MODEL_EXTENSIONS.some((ext) => file.name.toLowerCase().endsWith(ext))) {
        setImportError({ code: 'FORMAT_UNKNOWN', message: `${file.name} is not a model file. The library takes .safetensors and .ckpt files.` });
        continue;
      }
      setImporting({ name: file.name, fraction: 0 });
      try {
        const r = await uploadAndImport(api, file, {}, (fraction) => setImporting({ name: file.name, fraction }));
        await afterImport(r.item, r.existing);
      } catch (e) {
        setImportError(serializeError(e));
      } finally {
        setImporting(null);
      }
    }
  };

  const apply = (item: LibraryItem) => {
    draft.addLora(item);
    toasts.info(`${item.name} is in the LoRA stack.`);
  };

  const toggleFavourite = (item: LibraryItem) =>
    api.updateItem(item.id, { favourite: !item.favourite }).then(replaceItem, (e: unknown) => toasts.error(e, 'Could not change the favourite'));

  const drop = useFileDrop((files) => void importFiles(files));

  return (
    <section className={`place place-library${drop.dragging ? ' dragging' : ''}`} data-place="library" {...drop.handlers}
      data-testid="library-drop"
    >
      <h1 id="place-title">Library</h1>
      <p className="place-summary">Your checkpoints, motion modules and LoRAs. Drop model files anywhere here to import them.</p>

      <div className="import-bar">
        <form
          className="import-path"
          onSubmit={(e) => {
            e.preventDefault();
            void importByPath();
          }}
        >
          <label htmlFor={ids.path}>Import from a path</label>
          <input id={ids.path} value={importPath} onChange={(e) => setImportPath(e.target.value)} placeholder="/home/me/loras/watercolor.safetensors" data-testid="import-path" spellCheck={false} />
          <button type="submit" className="button" disabled={!importPath.trim() || importing !== null} data-testid="import-path-submit">
            Import
          </button>
        </form>
        <span className="import-or">or</span>
        <button type="button" className="button" onClick={() => fileInput.current?.click()} disabled={importing !== null}>
          Choose files…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept={MODEL_EXTENSIONS.join(',')}
          multiple
          hidden
          data-testid="import-file"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            void importFiles(files);
          }}
        />
      </div>
      {importing && (
        <div className="import-progress" data-testid="import-progress">
          <span>Importing {importing.name}… (hashing and reading its layout)</span>
          <ProgressBar fraction={importing.fraction} label={`Importing ${importing.name}`} />
        </div>
      )}
      {importError && (
        <div className="import-error" data-testid="import-error">
          <ErrorPanel error={importError} title="Import" />
        </div>
      )}

      <ModelFolders onChanged={() => void items.reload().then(() => setLibraryVersion((v) => v + 1))} />
      <FirstRunCard version={libraryVersion} onImported={() => void items.reload()} />

      <div className="library-toolbar" role="search">
        <div className="segmented" role="group" aria-label="Kind">
          {KINDS.map((k) => (
            <button
              key={k.kind}
              type="button"
              aria-pressed={kind === k.kind}
              onClick={() => {
                setKind(k.kind);
                setFamily('');
                setTag('');
                setSelectedId(null);
              }}
            >
              {k.label}
            </button>
          ))}
        </div>
        <input id={ids.search} type="search" aria-label="Search the library" placeholder="Search name, trigger words, tags" value={text} onChange={(e) => setText(e.target.value)} data-testid="library-search" />
        <select id={ids.family} aria-label="Base family" value={family} onChange={(e) => setFamily(e.target.value)} data-testid="library-family">
          <option value="">All families</option>
          {families.map(([f, label]) => (
            <option key={f} value={f}>
              {label}
            </option>
          ))}
        </select>
        <select id={ids.tag} aria-label="Tag" value={tag} onChange={(e) => setTag(e.target.value)} disabled={tags.length === 0}>
          <option value="">{tags.length === 0 ? 'No tags yet' : 'All tags'}</option>
          {tags.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label className="toggle">
          <input type="checkbox" checked={favourites} onChange={(e) => setFavourites(e.target.checked)} />
          Favourites
        </label>
      </div>

      {items.error && <ErrorPanel error={items.error} title="The library could not be read" />}
      <div className={selected ? 'library-layout with-details' : 'library-layout'}>
        <div>
          {!items.loading && all.length === 0 && !items.error && (
            <div className="empty-state" role="note">
              <p>
                No {KINDS.find((k) => k.kind === kind)?.noun} yet. Import a .safetensors file by path, with “Choose files…”, or drop it here; each card shows its base family, trigger words,
                size and hash, and files the studio cannot use say why.
              </p>
            </div>
          )}
          {all.length > 0 && shown.length === 0 && <p className="empty-hint">Nothing matches these filters.</p>}
          <ul className="card-grid" aria-label="Library items">
            {shown.map((item) => (
              <LoraCard
                key={item.id}
                item={item}
                selected={item.id === selectedId}
                inStack={draft.params.loras.some((l) => l.path === item.path && l.enabled !== false)}
                onSelect={() => setSelectedId(item.id === selectedId ? null : item.id)}
                onApply={() => apply(item)}
                onFavourite={() => void toggleFavourite(item)}
              />
            ))}
          </ul>
        </div>
        {selected && (
          <DetailsPane
            item={selected}
            onClose={() => setSelectedId(null)}
            onApply={() => apply(selected)}
            onSave={(patch) => api.updateItem(selected.id, patch).then(replaceItem, (e: unknown) => toasts.error(e, 'Could not save'))}
            onRemove={() =>
              api.removeItem(selected.id).then(
                () => (setSelectedId(null), void items.reload(), toasts.info(`Removed ${selected.name} from the library.`)),
                (e: unknown) => toasts.error(e, 'Could not remove it'),
              )
            }
          />
        )}
      </div>
      {draft.params.loras.length > 0 && (
        <p className="stack-summary">
          Stack: {draft.params.loras.map((l) => `${l.name ?? l.path} (${l.weight})`).join(', ')}.{' '}
          <button type="button" className="link-button" onClick={() => go('generate')}>
            Go to Generate
          </button>
        </p>
      )}
    </section>
  );
}
