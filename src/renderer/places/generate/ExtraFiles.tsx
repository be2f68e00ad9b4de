import { useId } from 'react';
import type { EmbeddingRef } from '../../../shared/domain/generation';
import type { LibraryItem } from '../../../shared/domain/library';
import { useDraft } from '../../state/draft';
import { embeddingVectors, embeddingWord, fileStem, unavailableReason, withWord } from './embedding-words';

/**
 * Files that shape a generation beyond the model and the LoRA stack, picked from the library (imported files and
 * model-folder items alike): textual-inversion embeddings, called in the prompts by their word (the file name,
 * EasyNegative.safetensors → "EasyNegative"), and a standalone VAE that replaces the model's for this clip. The
 * draft keeps paths, as the API and history always have; a path the library no longer lists (reused parameters of
 * an older take) stays selected and is shown as such, so re-running it still works. MotionLoRAs (camera motions) go
 * in the LoRA stack like any LoRA.
 */
export function ExtraFiles({ items, onOpenLibrary }: { items: readonly LibraryItem[]; onOpenLibrary: () => void }) {
  const draft = useDraft();
  const { params } = draft;
  const vaeId = useId();
  const embeddings = items.filter((i) => i.kind === 'embedding');
  const vaes = items.filter((i) => i.kind === 'vae');
  const chosen = params.embeddings ?? [];
  const isChosen = (path: string) => chosen.some((e) => e.path === path);
  const strays = chosen.filter((e) => e.path.trim() !== '' && !embeddings.some((i) => i.path === e.path));
  const vaeStray = params.vae !== undefined && !vaes.some((v) => v.path === params.vae);

  const setChosen = (next: EmbeddingRef[]) => draft.update({ embeddings: next.length > 0 ? next : undefined });
  const toggle = (path: string, on: boolean) => setChosen(on ? (isChosen(path) ? chosen : [...chosen, { path }]) : chosen.filter((e) => e.path !== path));
  const insert = (item: LibraryItem, where: 'prompt' | 'negativePrompt') => {
    // Using the word without the file does nothing, so inserting it also picks the embedding.
    draft.update({ [where]: withWord(params[where], embeddingWord(item)), embeddings: isChosen(item.path) ? chosen : [...chosen, { path: item.path }] });
  };

  return (
    <details className="extra-files" open={chosen.length > 0 || params.vae !== undefined} data-testid="extra-files">
      <summary>
        Embeddings and VAE
        {chosen.length + (params.vae ? 1 : 0) > 0 && <span className="summary-count"> · {chosen.length + (params.vae ? 1 : 0)} chosen</span>}
      </summary>
      <fieldset className="embedding-picker" data-testid="embeddings">
        <legend>Embeddings</legend>
        {embeddings.length === 0 && strays.length === 0 && (
          <p className="field-hint">
            No embeddings in the library yet.{' '}
            <button type="button" className="link-button" onClick={onOpenLibrary}>
              Import one or add your model folder
            </button>
          </p>
        )}
        <ul className="embedding-list">
          {embeddings.map((item) => {
            const word = embeddingWord(item);
            const vectors = embeddingVectors(item);
            const reason = unavailableReason(item);
            const on = isChosen(item.path);
            return (
              <li key={item.id} className="embedding-option" data-testid="embedding-option" data-word={word} data-disabled={reason !== null || undefined}>
                <label title={item.path}>
                  <input type="checkbox" checked={on} disabled={reason !== null && !on} onChange={(e) => toggle(item.path, e.target.checked)} />
                  <span className="embedding-word">{word}</span>
                  <span className="embedding-vectors">{vectors === null ? '' : `${vectors} ${vectors === 1 ? 'vector' : 'vectors'}`}</span>
                </label>
                {reason === null ? (
                  <span className="embedding-insert">
                    <button type="button" className="chip-button" onClick={() => insert(item, 'prompt')} aria-label={`Insert ${word} into the prompt`}>
                      + prompt
                    </button>
                    <button type="button" className="chip-button" onClick={() => insert(item, 'negativePrompt')} aria-label={`Insert ${word} into the negative prompt`}>
                      + negative
                    </button>
                  </span>
                ) : (
                  <span className="field-hint embedding-reason">{reason}</span>
                )}
              </li>
            );
          })}
          {strays.map((e) => (
            <li key={e.path} className="embedding-option" data-testid="embedding-option" data-word={fileStem(e.path)}>
              <label title={e.path}>
                <input type="checkbox" checked onChange={() => toggle(e.path, false)} />
                <span className="embedding-word">{e.name ?? fileStem(e.path)}</span>
                <span className="field-hint">not in the library ({e.path})</span>
              </label>
            </li>
          ))}
        </ul>
        <p className="field-hint">Tick an embedding and use its word in the prompt or negative prompt, e.g. (EasyNegative:1.2).</p>
      </fieldset>
      <div className="field">
        <label htmlFor={vaeId}>VAE</label>
        <select id={vaeId} value={params.vae ?? ''} data-testid="vae-picker" title={params.vae ?? "The checkpoint's own VAE"} onChange={(e) => draft.update({ vae: e.target.value === '' ? undefined : e.target.value })}>
          <option value="">The checkpoint’s own VAE</option>
          {vaes.map((v) => {
            const reason = unavailableReason(v);
            return (
              <option key={v.id} value={v.path} disabled={reason !== null && v.path !== params.vae} title={v.path}>
                {v.name}
                {reason ? ` — ${reason}` : ''}
              </option>
            );
          })}
          {vaeStray && <option value={params.vae}>{fileStem(params.vae ?? '')} (not in the library)</option>}
        </select>
      </div>
    </details>
  );
}
