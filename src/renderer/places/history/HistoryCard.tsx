import { useState } from 'react';
import type { GenerationRecord } from '../../../shared/domain/history';
import { FramePlayer } from '../../components/FramePlayer';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { STATUS_TEXT } from '../../state/status-text';
import { recordReason } from './record-reason';

/**
 * A clip in the gallery: still until hovered or focused, then it plays at its own fps. A record without a clip
 * says why in the picture's place. "Compare" puts it in the side-by-side view (two at a time).
 */
export function HistoryCard({
  record,
  selected,
  comparing,
  onSelect,
  onCompare,
  modelName,
}: {
  record: GenerationRecord;
  selected: boolean;
  comparing: boolean;
  onSelect: () => void;
  onCompare: () => void;
  modelName: string;
}) {
  const { mediaUrl } = useStudio();
  const [live, setLive] = useState(false);
  const urls = framePaths(record.outputs).map(mediaUrl);
  const thumb = record.outputs?.thumbnail;
  const stillUrls = urls.length > 0 ? urls : thumb && !thumb.startsWith('data:') ? [mediaUrl(thumb)] : thumb ? [thumb] : [];
  const p = record.params;
  const reason = recordReason(record);
  return (
    <li className={`history-card${selected ? ' card-selected' : ''}${comparing ? ' card-comparing' : ''}`} data-testid="history-card" data-generation-id={record.id} data-status={record.status}>
      <button
        type="button"
        className="history-thumb"
        onClick={onSelect}
        onMouseEnter={() => setLive(true)}
        onMouseLeave={() => setLive(false)}
        onFocus={() => setLive(true)}
        onBlur={() => setLive(false)}
        aria-pressed={selected}
        aria-label={`#${record.id}: ${p.prompt || 'no prompt'}, seed ${p.seed}, ${STATUS_TEXT[record.status]}. Show details`}
      >
        {stillUrls.length > 0 ? (
          <FramePlayer urls={stillUrls} fps={p.fps} aspect={p.width / p.height} playing={live} label="" />
        ) : (
          <div className="media-box history-reason-box" style={{ aspectRatio: String(p.width / p.height) }}>
            <span className="history-reason" data-testid="history-reason">
              {reason}
            </span>
          </div>
        )}
        <span className={`status-badge status-badge-${record.status} history-status`}>{STATUS_TEXT[record.status]}</span>
        {record.favourite && (
          <span className="history-fav" aria-label="Favourite">
            ★
          </span>
        )}
      </button>
      <div className="history-card-body">
        <p className="history-caption" title={p.prompt}>
          <span className="history-id">#{record.id}</span> {p.prompt || <em>no prompt</em>}
        </p>
        {/* Each detail with a number stays on one line ("2 | steps" or a seed cut in two read wrong); the lines
            break between details, and only a long model name wraps inside itself. */}
        <p className="history-meta">
          {modelName}
          {[`seed ${p.seed}`, `${p.steps} steps`, `${p.frames}f`, new Date(record.createdAt).toLocaleString()].map((d) => (
            <span key={d}>
              {/* No break before the dot: a line ends with "·" rather than starting with it. */}
              {'\u00a0· '}
              <span className="history-detail">{d}</span>
            </span>
          ))}
        </p>
        {reason && stillUrls.length > 0 && <p className="history-meta history-reason-line">{reason}</p>}
        <label className="toggle history-compare">
          <input type="checkbox" checked={comparing} onChange={onCompare} data-testid="history-compare" aria-label={`Compare #${record.id} side by side`} />
          Compare
        </label>
      </div>
    </li>
  );
}
