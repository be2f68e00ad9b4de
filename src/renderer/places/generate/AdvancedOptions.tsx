import { useId } from 'react';
import type { ProviderStatus } from '../../../shared/api';
import { DEFAULT_LCM_LORA_WEIGHT, type MotionGroupNormMode, type ProviderName, type WeightingMode } from '../../../shared/domain/generation';
import type { LibraryItem } from '../../../shared/domain/library';
import { PARAM_LIMITS } from '../../../shared/domain/param-limits';
import { Slider } from '../../components/Slider';
import { useDraft } from '../../state/draft';
import { PROVIDER_LABELS } from './provider-labels';

/**
 * The engine options a creator rarely changes, folded away but all here (the CLI has no option the studio
 * lacks): where it runs (the whole provider order, not one), clip skip, prompt weighting dialect, the AnimateLCM
 * LoRA and its weight, and how the motion module's GroupNorm treats frames.
 */
export function AdvancedOptions({ providers, loras }: { providers: ProviderStatus[]; loras: LibraryItem[] }) {
  const draft = useDraft();
  const { params } = draft;
  const ids = { provider: useId(), weighting: useId(), groupNorm: useId(), lcm: useId() };
  const usable = providers.filter((p) => p.usable).map((p) => p.name);
  const first = params.providers[0] ?? 'cpu';
  const options: ProviderName[] = usable.length > 0 ? [...new Set([first, ...usable])] : [first];
  const rest = params.providers.slice(1);

  return (
    <details className="advanced" data-testid="advanced-options">
      <summary>Engine options</summary>
      <div className="advanced-body">
        <div className="field">
          <label htmlFor={ids.provider}>Runs on</label>
          <select
            id={ids.provider}
            value={first}
            data-testid="provider-picker"
            // The chosen provider goes first; the rest of the order stays as it was (fallbacks are kept).
            onChange={(e) => {
              const p = e.target.value as ProviderName;
              draft.update({ providers: [p, ...params.providers.filter((x) => x !== p)] });
            }}
          >
            {options.map((p) => (
              <option key={p} value={p}>
                {PROVIDER_LABELS[p] ?? p}
                {usable.includes(p) ? '' : ' (not available here)'}
              </option>
            ))}
          </select>
          <p className="field-hint" data-testid="provider-order-hint">
            {rest.length > 0 ? `If it cannot start: ${rest.map((p) => PROVIDER_LABELS[p] ?? p).join(', then ')}.` : 'No fallback after it.'} The full order is in Settings.
          </p>
        </div>
        <div className="form-grid">
          <Slider label="Clip skip" value={params.clipSkip} {...PARAM_LIMITS.clipSkip} onChange={(clipSkip) => draft.update({ clipSkip })} hint="1 uses CLIP's last layer; 2 is what many anime models expect." testId="clip-skip" />
          <div className="field">
            <label htmlFor={ids.weighting}>Prompt weighting</label>
            <select id={ids.weighting} value={params.weighting} data-testid="weighting" onChange={(e) => draft.update({ weighting: e.target.value as WeightingMode })}>
              <option value="a1111">A1111: (word:1.2) scales, mean kept</option>
              <option value="comfy">ComfyUI: (word:1.2) sets, [ ] literal</option>
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor={ids.lcm}>AnimateLCM LoRA</label>
          <select
            id={ids.lcm}
            value={params.lcmLora?.path ?? ''}
            data-testid="lcm-lora"
            onChange={(e) => draft.update({ lcmLora: e.target.value ? { path: e.target.value, weight: params.lcmLora?.weight ?? DEFAULT_LCM_LORA_WEIGHT } : undefined })}
          >
            <option value="">None (the checkpoint as it is)</option>
            {loras.map((l) => (
              <option key={l.id} value={l.path}>
                {l.name}
              </option>
            ))}
          </select>
          <p className="field-hint">AnimateLCM's spatial LoRA makes few-step sampling sharp on ordinary SD1.5 checkpoints.</p>
        </div>
        {params.lcmLora && (
          <Slider
            label="AnimateLCM LoRA weight"
            value={params.lcmLora.weight}
            {...PARAM_LIMITS.lcmLoraWeight}
            integer={false}
            onChange={(weight) => params.lcmLora && draft.update({ lcmLora: { ...params.lcmLora, weight: Math.round(weight * 100) / 100 } })}
            testId="lcm-lora-weight"
          />
        )}
        <div className="field">
          <label htmlFor={ids.groupNorm}>Motion GroupNorm</label>
          <select id={ids.groupNorm} value={params.motionGroupNorm} data-testid="group-norm" onChange={(e) => draft.update({ motionGroupNorm: e.target.value as MotionGroupNormMode })}>
            <option value="per_frame">Per frame (AnimateDiff's default)</option>
            <option value="across_frames">Across frames (steadier colour between frames)</option>
          </select>
        </div>
      </div>
    </details>
  );
}
