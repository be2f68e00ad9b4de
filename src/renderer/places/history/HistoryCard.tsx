import { useState } from 'react';
import type { GenerationRecord } from '../../../shared/domain/history';
import { FramePlayer } from '../../components/FramePlayer';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';

const STATUS_TEXT: Record<GenerationRecord['status'], string> = {
  queued: 'Waiting',
  running: 'Running',
  done: '',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** A clip in the history: still until hovered or focused, then it plays at its own fps. */
export function HistoryCard({ record, selected, onSelect }: { record: GenerationRecord; selected: boolean; onSelect: () => void }) {
  const { mediaUrl } = useStudio();
  const [live, setLive] = useState(false);
  const urls = framePaths(record.outputs).map(mediaUrl);
  const thumb = record.outputs?.thumbnail;
  const stillUrls = urls.length > 0 ? urls : thumb && !thumb.startsWith('data:') ? [mediaUrl(thumb)] : thumb ? [thumb] : [];
  const p = record.params;
  return (
    <li className={`history-card${selected ? ' card-selected' : ''}`} data-testid="history-card" data-generation-id={record.id} data-status={record.status}>
      <button
        type="button"
        className="history-thumb"
        onClick={onSelect}
        onMouseEnter={() => setLive(true)}
        onMouseLeave={() => setLive(false)}
        onFocus={() => setLive(true)}
        onBlur={() => setLive(false)}
        aria-pressed={selected}
        aria-label={`#${record.id}: ${p.prompt || 'no prompt'}, seed ${p.seed}. Show details`}
      >
        <FramePlayer urls={stillUrls} fps={p.fps} aspect={p.width / p.height} playing={live} label="" />
        {STATUS_TEXT[record.status] && <span className={`badge history-status status-${record.status}`}>{STATUS_TEXT[record.status]}</span>}
        {record.favourite && (
          <span className="history-fav" aria-label="Favourite">
            ★
          </span>
        )}
      </button>
      <p className="history-caption" title={p.prompt}>
        <span className="history-id">#{record.id}</span> {p.prompt || <em>no prompt</em>}
      </p>
      <p className="history-meta">
        seed {p.seed} · {p.steps} steps · {p.frames}f
      </p>
    </li>
  );
}
