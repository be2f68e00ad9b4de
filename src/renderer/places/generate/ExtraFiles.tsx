import { useId } from 'react';
import { useDraft } from '../../state/draft';

/**
 * Files that shape a generation beyond the model and the LoRA stack, by path (as the library imports them):
 * textual-inversion embeddings, called in the prompts by their file name (EasyNegative.safetensors → type
 * "EasyNegative", also in the negative prompt), and a standalone VAE that replaces the model's for this clip.
 * MotionLoRAs (camera motions) go in the LoRA stack like any LoRA.
 */
export function ExtraFiles() {
  const draft = useDraft();
  const { params } = draft;
  const ids = { embeddings: useId(), vae: useId() };
  const embeddingText = (params.embeddings ?? []).map((e) => e.path).join('\n');
  return (
    <details className="extra-files" open={(params.embeddings?.length ?? 0) > 0 || params.vae !== undefined} data-testid="extra-files">
      <summary>Embeddings and VAE</summary>
      <div className="field">
        <label htmlFor={ids.embeddings}>Embeddings (one file per line)</label>
        <textarea
          id={ids.embeddings}
          rows={2}
          spellCheck={false}
          value={embeddingText}
          placeholder="/home/me/embeddings/EasyNegative.safetensors"
          data-testid="embeddings"
          onChange={(e) => {
            // Lines as typed (empty ones too, while typing); the form drops empty paths when it queues the job.
            draft.update({ embeddings: e.target.value === '' ? undefined : e.target.value.split('\n').map((path) => ({ path: path.trim() })) });
          }}
        />
        <p className="field-hint">Type an embedding’s file name in the prompt or negative prompt to use it, e.g. (EasyNegative:1.2).</p>
      </div>
      <div className="field">
        <label htmlFor={ids.vae}>VAE file (instead of the model’s)</label>
        <input id={ids.vae} value={params.vae ?? ''} spellCheck={false} placeholder="/home/me/vae/vae-ft-mse-840000-ema-pruned.safetensors" data-testid="vae" onChange={(e) => draft.update({ vae: e.target.value.trim() === '' ? undefined : e.target.value.trim() })} />
      </div>
    </details>
  );
}
