import { useId, useState } from 'react';
import { CONTEXT_MODES, CONTEXT_NOISES, CONTEXT_WEIGHTINGS, DEFAULT_CONTEXT_WINDOWS, type ContextWindowParams, type PromptKeyframe } from '../../../shared/domain/context-windows';
import type { GenerationParams } from '../../../shared/domain/generation';
import { Slider } from '../../components/Slider';

/**
 * Long clips (docs/freenoise.md) on the Generate form, under "Advanced": context windows on/off and their settings,
 * and the prompt keyframes (prompt travel). The Frames slider's range follows: up to 256 with windows.
 */

const WEIGHTING_LABELS: Record<string, string> = { flat: 'Flat', pyramid: 'Pyramid (blends seams)', delayed_reverse_sawtooth: 'Delayed reverse sawtooth' };
const NOISE_LABELS: Record<string, string> = { shuffle_context: 'Shuffled per window', repeat_context: 'Repeated per window', random: 'Independent' };
const MODE_LABELS: Record<string, string> = { studio: 'Studio (recommended)', diffusers: 'diffusers (exact, with its defects)' };

/** A labelled select over a fixed list of values. */
function Choice<T extends string>({ label, value, options, labels, testId, onChange }: { label: string; value: T; options: readonly T[]; labels: Record<string, string>; testId: string; onChange: (v: T) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} data-testid={testId} onChange={(e) => onChange(e.target.value as T)}>
        {options.map((x) => (
          <option key={x} value={x}>
            {labels[x]}
          </option>
        ))}
      </select>
    </div>
  );
}

export const LONG_CLIP_HINT =
  'Past 16 frames, context windows keep the motion module inside overlapping 16-frame windows and blend them, so long clips stay sharp; time and memory grow in step with frames.';

export function LongClipControls({ params, update }: { params: GenerationParams; update: (patch: Partial<GenerationParams>) => void }) {
  const ids = { on: useId() };
  const w = params.contextWindows;
  const setWindows = (patch: Partial<ContextWindowParams>) => update({ contextWindows: { ...(w ?? DEFAULT_CONTEXT_WINDOWS), ...patch } });
  const keyframes = params.promptKeyframes ?? [];
  // Rows keep the order they were added in (re-sorting while a frame number is typed would move the row being
  // edited); the pipeline sorts keyframes by frame.
  const setKeyframes = (next: PromptKeyframe[]) => update({ promptKeyframes: next });
  const [playhead, setPlayhead] = useState(Math.floor(params.frames / 2));
  const at = Math.min(Math.max(1, playhead), Math.max(1, params.frames - 1));
  const taken = at === 0 || keyframes.some((k) => k.frame === at);
  return (
    <details className="advanced long-clip" data-testid="long-clip">
      <summary>Advanced: long clips and prompt travel</summary>
      <div className="field">
        <label htmlFor={ids.on}>
          <input
            id={ids.on}
            type="checkbox"
            checked={w !== undefined}
            data-testid="context-windows"
            onChange={(e) => update(e.target.checked ? { contextWindows: { ...DEFAULT_CONTEXT_WINDOWS } } : { contextWindows: undefined, frames: Math.min(params.frames, 32) })}
          />{' '}
          Context windows (clips up to 256 frames)
        </label>
        <p className="field-hint">{LONG_CLIP_HINT}</p>
      </div>
      {w && (
        <div className="form-grid">
          <Slider label="Window length" value={w.length} min={4} max={32} onChange={(length) => setWindows({ length, stride: Math.min(w.stride, length - 1) })} hint="16 = what the motion module was trained on." testId="context-length" />
          <Slider label="Window stride" value={w.stride} min={1} max={Math.max(1, w.length - 1)} onChange={(stride) => setWindows({ stride })} hint="Frames between window starts; smaller overlaps more (slower, smoother)." testId="context-stride" />
          <Choice label="Blending" value={w.weighting} options={CONTEXT_WEIGHTINGS} labels={WEIGHTING_LABELS} testId="context-weighting" onChange={(weighting) => setWindows({ weighting })} />
          <Choice label="Starting noise" value={w.noise} options={CONTEXT_NOISES} labels={NOISE_LABELS} testId="context-noise" onChange={(noise) => setWindows({ noise })} />
          <Choice label="Compatibility" value={w.mode} options={CONTEXT_MODES} labels={MODE_LABELS} testId="context-mode" onChange={(mode) => setWindows({ mode })} />
        </div>
      )}
      <fieldset className="prompt-keyframes" data-testid="prompt-keyframes">
        <legend>Prompt keyframes</legend>
        <p className="field-hint">The prompt above is frame 0; each keyframe takes over from its frame, blending from the one before.</p>
        {keyframes.map((k, i) => (
          <div className="form-row keyframe" key={i} data-testid="keyframe">
            <input
              type="number"
              aria-label="Keyframe frame"
              className="field-narrow"
              min={1}
              max={params.frames - 1}
              value={k.frame}
              data-testid="keyframe-frame"
              onChange={(e) => Number.isInteger(e.target.valueAsNumber) && setKeyframes(keyframes.map((x, j) => (j === i ? { ...x, frame: e.target.valueAsNumber } : x)))}
            />
            <input type="text" aria-label={`Prompt from frame ${k.frame}`} value={k.prompt} data-testid="keyframe-prompt" onChange={(e) => update({ promptKeyframes: keyframes.map((x, j) => (j === i ? { ...x, prompt: e.target.value } : x)) })} />
            <button type="button" className="link-button" onClick={() => setKeyframes(keyframes.filter((_, j) => j !== i))}>
              Delete
            </button>
          </div>
        ))}
        <KeyframeLane frames={params.frames} keyframes={keyframes} playhead={at} onPlayhead={setPlayhead} />
        <button type="button" className="button" data-testid="add-keyframe" disabled={taken} onClick={() => setKeyframes([...keyframes, { frame: at, prompt: '' }])}>
          Add keyframe at frame {at}
        </button>
      </fieldset>
    </details>
  );
}

/**
 * The clip's frames as a lane: a playhead (a range over frames 1…F−1) and a marker per keyframe at its frame, frame
 * 0 being the main prompt. Clicking a marker moves the playhead to it.
 */
function KeyframeLane({ frames, keyframes, playhead, onPlayhead }: { frames: number; keyframes: PromptKeyframe[]; playhead: number; onPlayhead: (f: number) => void }) {
  const span = Math.max(1, frames - 1);
  const pos = (f: number) => `${(100 * f) / span}%`;
  return (
    <div className="keyframe-lane" data-testid="keyframe-lane">
      <div className="keyframe-markers" aria-hidden="true">
        <span className="keyframe-marker keyframe-marker-main" style={{ left: pos(0) }} title="Frame 0: the prompt" />
        {keyframes.map((k, i) => (
          <button key={i} type="button" tabIndex={-1} className="keyframe-marker" style={{ left: pos(Math.min(k.frame, span)) }} title={`Frame ${k.frame}: ${k.prompt}`} data-testid="keyframe-marker" onClick={() => onPlayhead(k.frame)} />
        ))}
      </div>
      <input type="range" min={1} max={span} value={playhead} aria-label="Keyframe playhead (frame)" data-testid="keyframe-playhead" onChange={(e) => onPlayhead(e.target.valueAsNumber)} />
    </div>
  );
}
