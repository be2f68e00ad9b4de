import type { GenerationRecord } from '../../../shared/domain/history';
import { formatDuration } from '../../state/media';

/** Everything a record was made with, in a creator's words (the full record is one click away in Details). */
export function ParamsList({ record }: { record: GenerationRecord }) {
  const p = record.params;
  const total = record.timings.total ?? Object.values(record.timings).reduce((a, b) => a + b, 0);
  return (
    <dl className="params-list" data-testid="history-params">
      <dt>Prompt</dt>
      <dd>{p.prompt || <em>none</em>}</dd>
      {p.negativePrompt && (
        <>
          <dt>Negative</dt>
          <dd>{p.negativePrompt}</dd>
        </>
      )}
      <dt>Mode</dt>
      <dd data-testid="history-mode">
        {p.input?.kind === 'image'
          ? `Image → video · motion scale ${p.input.motionScale} · colour match ${p.input.colorMatch ? 'on' : 'off'}`
          : p.input?.kind === 'video'
            ? `Video → video · strength ${p.input.strength}`
            : 'Text → video'}
      </dd>
      <dt>Seed</dt>
      <dd data-testid="history-seed">{p.seed}</dd>
      <dt>Model</dt>
      <dd title={p.model}>{p.model ? p.model.split(/[\\/]/).pop() : 'Starter test model'}</dd>
      <dt>Settings</dt>
      <dd>
        {p.steps} steps · guidance {p.guidance} · {p.frames} frames · {p.width}×{p.height} · {p.fps} fps
      </dd>
      {p.loras.length > 0 && (
        <>
          <dt>LoRAs</dt>
          <dd>{p.loras.map((l) => `${l.name ?? l.path.split(/[\\/]/).pop()} ${l.weight}${l.enabled === false ? ' (off)' : ''}`).join(', ')}</dd>
        </>
      )}
      <dt>Noise</dt>
      <dd>
        {record.noise.name} {record.noise.version}
      </dd>
      {total > 0 && (
        <>
          <dt>Took</dt>
          <dd>{formatDuration(total)}</dd>
        </>
      )}
      {record.origin !== 'new' && (
        <>
          <dt>Made by</dt>
          <dd>
            {record.origin === 'reroll' ? 'Re-roll' : 'Exact re-run'} of #{record.parentId}
          </dd>
        </>
      )}
    </dl>
  );
}
