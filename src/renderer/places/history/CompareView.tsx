import { useState } from 'react';
import type { GenerationRecord } from '../../../shared/domain/history';
import { FramePlayer } from '../../components/FramePlayer';
import type { LibraryNames } from '../../state/library-names';
import { framePaths } from '../../state/media';
import { useStudio } from '../../state/studio-api';
import { STARTER_MODEL_NAME } from '../generate/starter-model';
import { recordReason } from './record-reason';

/** What differs between two takes, in a line: the first thing a creator looks for when comparing. */
function differences(a: GenerationRecord, b: GenerationRecord, names: LibraryNames): string[] {
  const out: string[] = [];
  const pa = a.params;
  const pb = b.params;
  if (pa.prompt !== pb.prompt) out.push('prompt');
  if (pa.negativePrompt !== pb.negativePrompt) out.push('negative prompt');
  if (pa.seed !== pb.seed) out.push(`seed ${pa.seed} / ${pb.seed}`);
  if (pa.model !== pb.model) out.push(`model ${names.nameOf(pa.model, null, STARTER_MODEL_NAME)} / ${names.nameOf(pb.model, null, STARTER_MODEL_NAME)}`);
  if (pa.motion !== pb.motion) out.push('motion module');
  for (const k of ['steps', 'guidance', 'frames', 'fps', 'width', 'height', 'clipSkip'] as const) if (pa[k] !== pb[k]) out.push(`${k} ${pa[k]} / ${pb[k]}`);
  const stack = (p: GenerationRecord['params']) => p.loras.map((l) => `${l.path}:${l.weight}:${l.enabled !== false}`).join('|');
  if (stack(pa) !== stack(pb)) out.push('LoRA stack');
  return out;
}

/** Two takes side by side, playing together from the same frame; one play/pause for both. */
export function CompareView({ records, names, onClose, onRemove }: { records: GenerationRecord[]; names: LibraryNames; onClose: () => void; onRemove: (id: number) => void }) {
  const { mediaUrl } = useStudio();
  const [playing, setPlaying] = useState(true);
  const [a, b] = records;
  return (
    <section className="compare-view" aria-label="Side-by-side comparison" data-testid="history-compare-view">
      <div className="section-head">
        <h2>{records.length === 2 ? `#${a.id} and #${b.id} side by side` : `#${a.id}: tick Compare on a second clip`}</h2>
        <span className="spacer" />
        <button type="button" className="button button-small" onClick={() => setPlaying((p) => !p)} aria-pressed={playing}>
          {playing ? 'Pause both' : 'Play both'}
        </button>
        <button type="button" className="icon-button" aria-label="Close the comparison" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="compare-grid">
        {records.map((r) => {
          const urls = framePaths(r.outputs).map(mediaUrl);
          return (
            <figure key={r.id} className="compare-take" data-testid="compare-take" data-generation-id={r.id}>
              {urls.length > 0 ? (
                <FramePlayer urls={urls} fps={r.params.fps} aspect={r.params.width / r.params.height} playing={playing} label={`Clip #${r.id}`} />
              ) : (
                <div className="media-box history-reason-box" style={{ aspectRatio: String(r.params.width / r.params.height) }}>
                  <span className="history-reason">{recordReason(r)}</span>
                </div>
              )}
              <figcaption>
                <strong>#{r.id}</strong> {r.params.prompt || <em>no prompt</em>} · seed {r.params.seed}{' '}
                <button type="button" className="link-button" onClick={() => onRemove(r.id)}>
                  Remove
                </button>
              </figcaption>
            </figure>
          );
        })}
      </div>
      {records.length === 2 && (
        <p className="muted" data-testid="compare-differences">
          {differences(a, b, names).length > 0 ? `Differs in: ${differences(a, b, names).join(', ')}.` : 'Same settings (a re-run).'}
        </p>
      )}
    </section>
  );
}
