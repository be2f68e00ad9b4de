import { useEffect, useId, useState } from 'react';
import { BOOKKEEPING_METADATA, type LibraryItem, type LibraryItemUpdate } from '../../../shared/domain/library';
import { formatBytes } from '../../state/media';
import { ItemPreview } from './LoraCard';

const splitList = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

/** Everything the library knows about one file, with the fields a creator may edit. */
export function DetailsPane({
  item,
  onSave,
  onRemove,
  onApply,
  onClose,
}: {
  item: LibraryItem;
  onSave: (patch: LibraryItemUpdate) => Promise<void>;
  onRemove: () => void;
  onApply: () => void;
  onClose: () => void;
}) {
  const ids = { name: useId(), triggers: useId(), tags: useId() };
  const [name, setName] = useState(item.name);
  const [triggers, setTriggers] = useState(item.triggerWords.join(', '));
  const [tags, setTags] = useState(item.tags.join(', '));
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    setName(item.name);
    setTriggers(item.triggerWords.join(', '));
    setTags(item.tags.join(', '));
  }, [item]);

  const dirty = name !== item.name || triggers !== item.triggerWords.join(', ') || tags !== item.tags.join(', ');
  const metadata = Object.entries(item.metadata).filter(([k]) => !BOOKKEEPING_METADATA.test(k));

  return (
    <aside className="details-pane" aria-label={`Details of ${item.name}`} data-testid="details-pane">
      <div className="section-head">
        <h2>{item.name}</h2>
        <button type="button" className="icon-button" aria-label="Close details" onClick={onClose}>
          ×
        </button>
      </div>
      <ItemPreview item={item} />
      {!item.supported && (
        <p className="warning-line" role="note">
          {item.supportMessage ?? 'The studio cannot use this file.'}
        </p>
      )}
      <form
        className="details-form"
        onSubmit={(e) => {
          e.preventDefault();
          setSaving(true);
          void onSave({ name: name.trim() || item.name, triggerWords: splitList(triggers), tags: splitList(tags) }).finally(() => setSaving(false));
        }}
      >
        <div className="field">
          <label htmlFor={ids.name}>Name</label>
          <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.triggers}>Trigger words (comma separated)</label>
          <input id={ids.triggers} value={triggers} onChange={(e) => setTriggers(e.target.value)} data-testid="details-triggers" />
        </div>
        <div className="field">
          <label htmlFor={ids.tags}>Tags (comma separated)</label>
          <input id={ids.tags} value={tags} onChange={(e) => setTags(e.target.value)} data-testid="details-tags" />
        </div>
        <div className="form-actions">
          <button type="submit" className="button" disabled={!dirty || saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          {item.kind === 'lora' && (
            <button type="button" className="button button-primary" onClick={onApply} disabled={!item.supported}>
              Add to stack
            </button>
          )}
        </div>
      </form>
      <dl className="details-list">
        <dt>Kind</dt>
        <dd>{item.kind === 'lora' ? 'LoRA' : item.kind === 'motion' ? 'Motion module' : 'Checkpoint'}</dd>
        <dt>Base family</dt>
        <dd>{item.familyLabel}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(item.sizeBytes)}</dd>
        <dt>AutoV2</dt>
        <dd>
          <code>{item.autov2}</code>
        </dd>
        {item.autov3 && (
          <>
            <dt>AutoV3</dt>
            <dd>
              <code>{item.autov3}</code>
            </dd>
          </>
        )}
        <dt>SHA-256</dt>
        <dd>
          <code className="hash">{item.sha256}</code>
        </dd>
        <dt>File</dt>
        <dd className="path" title={item.path}>
          {item.path}
        </dd>
        <dt>Stored</dt>
        <dd>{item.storage === 'copy' ? 'A copy in the studio’s data folder' : 'Read from where it is'}</dd>
        <dt>Imported</dt>
        <dd>{new Date(item.importedAt).toLocaleString()}</dd>
      </dl>
      {metadata.length > 0 && (
        <details className="metadata">
          <summary>File metadata ({metadata.length})</summary>
          <dl>
            {metadata.map(([k, v]) => (
              <div key={k} className="metadata-row">
                <dt>{k}</dt>
                <dd>{v.length > 400 ? `${v.slice(0, 400)}…` : v}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}
      <button type="button" className="link-button danger" onClick={onRemove}>
        Remove from library
      </button>
    </aside>
  );
}
