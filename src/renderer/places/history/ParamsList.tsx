import type { GenerationRecord } from '../../../shared/domain/history';
import type { LibraryNames } from '../../state/library-names';
import { formatDuration } from '../../state/media';
import { PROVIDER_LABELS } from '../generate/provider-labels';
import { STARTER_MODEL_NAME } from '../generate/starter-model';

/** Everything a record was made with, in a creator's words: library names, not stored file names. */
export function ParamsList({ record, names }: { record: GenerationRecord; names: LibraryNames }) {
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
      <dd title={p.model} data-testid="history-model">
        {names.nameOf(p.model, record.hashes.model, STARTER_MODEL_NAME)}
      </dd>
      <dt>Motion module</dt>
      <dd title={p.motion} data-testid="history-motion">
        {names.nameOf(p.motion, record.hashes.motion, p.model ? 'None chosen' : "The starter model's own")}
      </dd>
      <dt>Settings</dt>
      <dd>
        {p.steps} steps · guidance {p.guidance} · {p.frames} frames · {p.width}×{p.height} · {p.fps} fps
      </dd>
      {p.loras.length > 0 && (
        <>
          <dt>LoRAs</dt>
          <dd data-testid="history-loras">{p.loras.map((l, i) => `${names.nameOf(l.path, record.hashes.loras[i] ?? l.sha256) ?? l.name} ${l.weight}${l.enabled === false ? ' (off)' : ''}`).join(', ')}</dd>
        </>
      )}
      {(p.embeddings?.length ?? 0) > 0 && (
        <>
          <dt>Embeddings</dt>
          <dd>{(p.embeddings ?? []).map((e) => e.name ?? e.path.split(/[\\/]/).pop()).join(', ')}</dd>
        </>
      )}
      {p.vae && (
        <>
          <dt>VAE</dt>
          <dd title={p.vae}>{p.vae.split(/[\\/]/).pop()}</dd>
        </>
      )}
      {p.lcmLora && (
        <>
          <dt>AnimateLCM LoRA</dt>
          <dd>
            {names.nameOf(p.lcmLora.path, record.hashes.lcmLora)} {p.lcmLora.weight}
          </dd>
        </>
      )}
      <dt>Engine</dt>
      <dd>
        clip skip {p.clipSkip} · {p.weighting === 'a1111' ? 'A1111' : 'ComfyUI'} weighting · GroupNorm {p.motionGroupNorm === 'per_frame' ? 'per frame' : 'across frames'} · tried {p.providers.map((x) => PROVIDER_LABELS[x] ?? x).join(' → ')}
      </dd>
      {record.ranOn && (
        <>
          <dt>Ran on</dt>
          <dd data-testid="history-ran-on">
            {PROVIDER_LABELS[record.ranOn.provider] ?? record.ranOn.provider} · {record.ranOn.precision === 'float16' ? 'fp16' : record.ranOn.precision === 'int8' ? 'int8 (approximate)' : 'fp32'}
            {record.ranOn.fp32Reruns.length > 0 && ` (${record.ranOn.fp32Reruns.join(', ')} re-run in fp32)`}
          </dd>
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
