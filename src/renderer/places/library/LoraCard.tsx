import { sidecarFacts, type LibraryItem } from '../../../shared/domain/library';
import { formatBytes } from '../../state/media';
import { useStudio } from '../../state/studio-api';

/** The card's picture: the item's preview if it has one, else its initials on a calm tile (no invented art). */
export function ItemPreview({ item }: { item: LibraryItem }) {
  const { mediaUrl } = useStudio();
  if (item.preview) {
    const src = item.preview.startsWith('data:') ? item.preview : mediaUrl(item.preview);
    return <img className="card-preview" src={src} alt="" loading="lazy" />;
  }
  const initials = item.name
    .split(/[\s_\-.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase())
    .join('');
  return (
    <div className="card-preview card-preview-empty" aria-hidden="true">
      {initials || '?'}
    </div>
  );
}

/**
 * One library item as a card: preview, name, base family, trigger words, size and AutoV2 hash (what Civitai and
 * A1111 show, so a creator can match files). Selecting opens the details; "Add to stack" is one click.
 */
export function LoraCard({
  item,
  selected,
  inStack,
  onSelect,
  onApply,
  onFavourite,
}: {
  item: LibraryItem;
  selected: boolean;
  inStack: boolean;
  onSelect: () => void;
  onApply: () => void;
  onFavourite: () => void;
}) {
  const side = sidecarFacts(item);
  return (
    <li className={`card${selected ? ' card-selected' : ''}${item.supported ? '' : ' card-unsupported'}${item.availability === 'offline' ? ' card-offline' : ''}`} data-testid="library-card" data-item-id={item.id}>
      <button type="button" className="card-main" onClick={onSelect} aria-pressed={selected} aria-label={`${item.name}, ${item.familyLabel}. Show details`}>
        <ItemPreview item={item} />
      </button>
      <div className="card-body">
        <div className="card-title-row">
          <span className="card-title" title={item.name}>
            {item.name}
          </span>
          <button type="button" className="icon-button star" aria-pressed={item.favourite} aria-label={item.favourite ? `Unfavourite ${item.name}` : `Favourite ${item.name}`} onClick={onFavourite}>
            <span aria-hidden="true">{item.favourite ? '★' : '☆'}</span>
          </button>
        </div>
        <div className="card-badges">
          <span className={`badge badge-family${item.supported ? '' : ' badge-warn'}`}>{item.familyLabel}</span>
          {item.availability !== 'ok' && <span className="badge badge-warn">{item.availability === 'missing' ? 'File missing' : item.availability === 'offline' ? 'Offline (drive not connected)' : 'File changed'}</span>}
        </div>
        {item.triggerWords.length > 0 && (
          <p className="card-triggers" title={item.triggerWords.join(', ')}>
            {item.triggerWords.join(', ')}
          </p>
        )}
        {(side.baseModel !== null || side.defaultWeight !== null) && (
          <p className="card-meta" data-testid="card-sidecar" title="From the sidecar files next to the model">
            {[side.baseModel && `For ${side.baseModel}`, side.defaultWeight !== null && `weight ${side.defaultWeight}`].filter(Boolean).join(' · ')}
          </p>
        )}
        <p className="card-meta">
          {formatBytes(item.sizeBytes)} · <code title={item.sha256}>{item.autov2}</code>
        </p>
        {!item.supported && (
          <p className="card-unsupported-text" data-testid="card-unsupported">
            {item.supportMessage ?? 'The studio cannot use this file.'}
          </p>
        )}
        {item.kind === 'lora' && (
          <button type="button" className="button button-small" onClick={onApply} disabled={!item.supported} data-testid="card-apply">
            {inStack ? 'In the stack ✓' : 'Add to stack'}
          </button>
        )}
      </div>
    </li>
  );
}
