import { useId } from 'react';
import { CONTROL_MAP_HINT, DEFAULT_CONTROL_UNIT, type ControlNetUnit, type ControlPreprocess } from '../../../shared/domain/controlnet';
import { Slider } from '../../components/Slider';
import { useDraft } from '../../state/draft';
import { ControlPreviewStrip } from './ControlPreviewStrip';

/**
 * ControlNet units: add, reorder (units apply in order and their residuals sum), enable, weight, the window of the
 * steps they act in, the preprocessor, and a preview of the control maps the ControlNet will see (ControlPreviewStrip). Paths are files on the machine that runs the engine: an SD1.5 ControlNet
 * and its conditioning input (an image for every frame, a video, or a folder of frames).
 */
export function ControlNetUnits() {
  const draft = useDraft();
  const units = draft.params.controlNets ?? [];
  const set = (next: ControlNetUnit[]) => draft.update({ controlNets: next.length > 0 ? next : undefined });
  const patch = (i: number, p: Partial<ControlNetUnit>) => set(units.map((u, k) => (k === i ? { ...u, ...p } : u)));
  const move = (i: number, d: -1 | 1) => {
    const next = [...units];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    set(next);
  };
  return (
    <fieldset className="lora-stack" data-testid="controlnet-units">
      <legend>ControlNet</legend>
      {units.length === 0 && <p className="field-hint">No ControlNet. Add a unit to steer the layout of every frame with an edge map, depth map or pose.</p>}
      <ul>
        {units.map((u, i) => (
          <UnitRow key={i} unit={u} index={i} count={units.length} clip={{ frames: draft.params.frames, width: draft.params.width, height: draft.params.height }} onPatch={(p) => patch(i, p)} onMove={(d) => move(i, d)} onRemove={() => set(units.filter((_, k) => k !== i))} />
        ))}
      </ul>
      <button type="button" className="link-button" data-testid="controlnet-add" onClick={() => set([...units, { ...DEFAULT_CONTROL_UNIT, model: '', control: '' }])}>
        Add a ControlNet unit
      </button>
    </fieldset>
  );
}

function UnitRow({ unit, index, count, clip, onPatch, onMove, onRemove }: { unit: ControlNetUnit; index: number; count: number; clip: { frames: number; width: number; height: number }; onPatch: (p: Partial<ControlNetUnit>) => void; onMove: (d: -1 | 1) => void; onRemove: () => void }) {
  const ids = { model: useId(), control: useId(), pre: useId() };
  const name = `ControlNet unit ${index + 1}`;
  return (
    <li className={unit.enabled === false ? 'lora-row lora-disabled' : 'lora-row'} data-testid="controlnet-unit">
      <div className="lora-row-head">
        <label className="toggle">
          <input type="checkbox" checked={unit.enabled !== false} onChange={(e) => onPatch({ enabled: e.target.checked })} aria-label={`Use ${name}`} />
          <span className="lora-name">{name}</span>
        </label>
        <span className="spacer" />
        <button type="button" className="icon-button" aria-label={`Move ${name} up`} disabled={index === 0} onClick={() => onMove(-1)}>
          ↑
        </button>
        <button type="button" className="icon-button" aria-label={`Move ${name} down`} disabled={index === count - 1} onClick={() => onMove(1)}>
          ↓
        </button>
        <button type="button" className="icon-button" aria-label={`Remove ${name}`} onClick={onRemove}>
          ×
        </button>
      </div>
      <label htmlFor={ids.model}>ControlNet file</label>
      <input id={ids.model} type="text" value={unit.model} placeholder="/models/control_v11p_sd15_canny.pth" onChange={(e) => onPatch({ model: e.target.value })} data-testid={`controlnet-model-${index}`} />
      <label htmlFor={ids.control}>Conditioning image, video or folder of frames</label>
      <input id={ids.control} type="text" value={unit.control} placeholder="/inputs/edges.png" onChange={(e) => onPatch({ control: e.target.value })} data-testid={`controlnet-control-${index}`} />
      <label htmlFor={ids.pre}>Preprocessor</label>
      <select id={ids.pre} value={unit.preprocess} onChange={(e) => onPatch({ preprocess: e.target.value as ControlPreprocess })} data-testid={`controlnet-preprocess-${index}`}>
        <option value="none">None: the input is the map</option>
        <option value="canny">Canny edges</option>
      </select>
      {unit.preprocess === 'none' && <p className="field-hint">{CONTROL_MAP_HINT}</p>}
      <ControlPreviewStrip unit={unit} index={index} clip={clip} />
      <Slider label="Weight" value={unit.scale} min={0} max={2} step={0.05} onChange={(v) => onPatch({ scale: Math.round(v * 100) / 100 })} testId={`controlnet-scale-${index}`} />
      <Slider label="Start (fraction of the steps)" value={unit.start} min={0} max={1} step={0.05} onChange={(v) => onPatch({ start: Math.min(Math.round(v * 100) / 100, unit.end - 0.05) })} testId={`controlnet-start-${index}`} />
      <Slider label="End (fraction of the steps)" value={unit.end} min={0} max={1} step={0.05} onChange={(v) => onPatch({ end: Math.max(Math.round(v * 100) / 100, unit.start + 0.05) })} testId={`controlnet-end-${index}`} />
    </li>
  );
}
