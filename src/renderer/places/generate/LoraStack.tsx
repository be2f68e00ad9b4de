import { useId } from 'react';
import type { GenerationParams, LoraRef } from '../../../shared/domain/generation';
import type { LibraryItem } from '../../../shared/domain/library';
import { loraFitsModel } from '../../../shared/domain/lora-fit';
import { PARAM_LIMITS } from '../../../shared/domain/param-limits';
import { Slider } from '../../components/Slider';
import { useDraft } from '../../state/draft';

/** Why a LoRA in the stack may not do what the creator expects; empty when nothing is in the way. */
export function loraWarnings(ref: LoraRef, item: LibraryItem | undefined, params: GenerationParams, modelFamily: string | null): string[] {
  if (!item) return ['This LoRA is not in the library any more; it will be read from its path if the file is still there.'];
  const w: string[] = [];
  if (!item.supported) w.push(item.supportMessage ?? `${item.name} cannot be used by the studio.`);
  else if (!loraFitsModel(item.family, modelFamily)) w.push(`Made for ${item.familyLabel}; the chosen model is another base, so the studio will refuse it.`);
  if (item.availability === 'missing') w.push('The file has moved or been deleted since it was imported.');
  if (item.availability === 'changed') w.push('The file changed since it was imported; re-import it so its hash is current.');
  if (ref.enabled !== false && item.triggerWords.length > 0 && !item.triggerWords.some((t) => params.prompt.toLowerCase().includes(t.toLowerCase())))
    w.push(`None of its trigger words are in the prompt (${item.triggerWords.join(', ')}).`);
  return w;
}

/**
 * The LoRA stack: add from the library, one row per LoRA with its weight, an enable toggle (keep it in the stack
 * but off, to compare), trigger words inserted into the prompt on request, and what may stop it working.
 */
export function LoraStack({ loras, modelFamily, onRefresh }: { loras: LibraryItem[]; modelFamily: string | null; onRefresh?: () => void }) {
  const draft = useDraft();
  const { params } = draft;
  const addId = useId();
  const byPath = new Map(loras.map((l) => [l.path, l]));
  const addable = loras.filter((l) => !params.loras.some((r) => r.path === l.path));

  const insertTriggers = (item: LibraryItem) => {
    const missing = item.triggerWords.filter((t) => !params.prompt.toLowerCase().includes(t.toLowerCase()));
    if (missing.length === 0) return;
    const sep = params.prompt.trim().length > 0 ? ', ' : '';
    draft.update({ prompt: params.prompt.replace(/[\s,]+$/, '') + sep + missing.join(', ') });
  };

  return (
    <fieldset className="lora-stack" data-testid="lora-stack">
      <legend>LoRA stack</legend>
      {params.loras.length === 0 && <p className="field-hint">No LoRAs. Add one from the library to bring in a style or character.</p>}
      <ul>
        {params.loras.map((ref, i) => {
          const item = byPath.get(ref.path);
          const warnings = loraWarnings(ref, item, params, modelFamily);
          const name = item?.name ?? ref.name ?? ref.path;
          return (
            <li key={ref.path} className={ref.enabled === false ? 'lora-row lora-disabled' : 'lora-row'} data-testid="lora-row">
              <div className="lora-row-head">
                <label className="toggle">
                  <input type="checkbox" checked={ref.enabled !== false} onChange={(e) => draft.updateLora(i, { enabled: e.target.checked })} aria-label={`Use ${name}`} />
                  <span className="lora-name">{name}</span>
                </label>
                {item && <span className="badge">{item.familyLabel}</span>}
                <span className="spacer" />
                {item && item.triggerWords.length > 0 && (
                  <button type="button" className="link-button" onClick={() => insertTriggers(item)} title={item.triggerWords.join(', ')}>
                    Insert trigger words
                  </button>
                )}
                <button type="button" className="icon-button" aria-label={`Remove ${name} from the stack`} onClick={() => draft.removeLora(i)}>
                  ×
                </button>
              </div>
              <Slider label="Weight" value={ref.weight} {...PARAM_LIMITS.loraWeight} integer={false} onChange={(v) => draft.updateLora(i, { weight: Math.round(v * 100) / 100 })} testId={`lora-weight-${i}`} />
              {warnings.length > 0 && (
                <ul className="warnings" data-testid="lora-warnings">
                  {warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
      <div className="lora-add">
        <label htmlFor={addId}>Add from library</label>
        <select
          id={addId}
          value=""
          data-testid="lora-add"
          onFocus={onRefresh}
          onChange={(e) => {
            const item = loras.find((l) => String(l.id) === e.target.value);
            if (item) draft.addLora(item);
          }}
        >
          <option value="">{loras.length === 0 ? 'The library has no LoRAs yet' : addable.length === 0 ? 'All library LoRAs are in the stack' : 'Choose a LoRA…'}</option>
          {addable.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name} ({l.familyLabel}){l.supported ? '' : ' — cannot be used'}
            </option>
          ))}
        </select>
      </div>
    </fieldset>
  );
}
