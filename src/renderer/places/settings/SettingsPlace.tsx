import { useEffect, useId, useState } from 'react';
import type { SettingsView } from '../../../shared/api';
import type { GenerationParams, PrecisionChoice, ProviderName } from '../../../shared/domain/generation';
import { deviceLine } from '../../components/device-line';
import { DEFAULT_PARAMS } from '../../../shared/domain/generation';
import { PARAM_LIMITS } from '../../../shared/domain/param-limits';
import { ErrorPanel } from '../../components/ErrorPanel';
import { Slider } from '../../components/Slider';
import { useDraft } from '../../state/draft';
import { useStudio } from '../../state/studio-api';
import { useToasts } from '../../state/toasts';
import { useLoad } from '../../state/use-load';
import { PROVIDER_LABELS } from '../generate/GeneratePlace';

const ALL_PROVIDERS: ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

type Defaults = Pick<GenerationParams, 'steps' | 'guidance' | 'frames' | 'fps' | 'width' | 'height' | 'negativePrompt'> & { precision: PrecisionChoice };

function defaultsOf(s: SettingsView): Defaults {
  const d = { ...DEFAULT_PARAMS, ...s.defaultParams };
  return { steps: d.steps, guidance: d.guidance, frames: d.frames, fps: d.fps, width: d.width, height: d.height, negativePrompt: d.negativePrompt, precision: d.precision ?? 'auto' };
}

/** Where the engine runs, how many threads, where the data lives, and what a new generation starts from. */
export function SettingsPlace() {
  const { api } = useStudio();
  const draft = useDraft();
  const toasts = useToasts();
  const ids = { threads: useId(), threadsAuto: useId(), negative: useId(), width: useId(), height: useId(), precision: useId() };
  const settings = useLoad(() => api.getSettings(), [api]);
  const engine = useLoad(() => api.getEngineInfo(), [api]);
  const [providers, setProviders] = useState<ProviderName[]>([]);
  const [threads, setThreads] = useState<number | null>(null);
  const [defaults, setDefaults] = useState<Defaults | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    const s = settings.value;
    if (!s) return;
    setProviders(s.providers);
    setThreads(s.threads);
    setDefaults(defaultsOf(s));
  }, [settings.value]);

  const usable = new Map((engine.value?.providers ?? []).map((p) => [p.name, p]));
  const ordered = [...providers, ...ALL_PROVIDERS.filter((p) => !providers.includes(p))];

  const move = (p: ProviderName, delta: number) => {
    const i = providers.indexOf(p);
    const j = i + delta;
    if (i < 0 || j < 0 || j >= providers.length) return;
    const next = [...providers];
    [next[i], next[j]] = [next[j], next[i]];
    setProviders(next);
  };

  const save = async () => {
    if (!defaults) return;
    setSaving(true);
    try {
      const s = await api.updateSettings({ providers, threads, defaultParams: defaults });
      settings.set(s);
      draft.settingsSaved(s);
      toasts.info('Settings saved; Generate uses them from now on.');
    } catch (e) {
      toasts.error(e, 'Settings were not saved');
    } finally {
      setSaving(false);
    }
  };

  const d = defaults;
  return (
    <section className="place place-settings" data-place="settings">
      <h1 id="place-title">Settings</h1>
      <p className="place-summary">Where the engine runs and what a new generation starts from.</p>
      {settings.error && <ErrorPanel error={settings.error} title="Settings could not be read" />}
      {settings.value && d && (
        <form
          className="settings-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <fieldset>
            <legend>Execution providers, in the order to try</legend>
            <p className="field-hint">The first one that starts on this machine runs the models; CPU always works.</p>
            <ol className="provider-list" data-testid="provider-order">
              {ordered.map((p) => {
                const on = providers.includes(p);
                const status = usable.get(p);
                return (
                  <li key={p} className={on ? '' : 'muted'}>
                    <label className="toggle">
                      <input
                        type="checkbox"
                        checked={on}
                        onChange={(e) => setProviders(e.target.checked ? [...providers, p] : providers.filter((x) => x !== p))}
                        disabled={on && providers.length === 1}
                      />
                      {PROVIDER_LABELS[p]}
                    </label>
                    <div className="provider-status" data-testid="provider-status">
                      <span className="provider-reason">
                        {status ? (status.usable ? (status.device ? `available: ${deviceLine(status.device)}` : 'available') : (status.reason ?? 'not available here')) : 'not available here'}
                      </span>
                      {/* onnxruntime's own message: for a bug report or a forum post, so selectable, not a tooltip. */}
                      {status?.detail && (
                        <details className="provider-detail" data-testid="provider-detail">
                          <summary>Details</summary>
                          <pre>{status.detail}</pre>
                        </details>
                      )}
                    </div>
                    <span className="spacer" />
                    {on && (
                      <>
                        <button type="button" className="icon-button" aria-label={`Move ${PROVIDER_LABELS[p]} up`} onClick={() => move(p, -1)} disabled={providers.indexOf(p) === 0}>
                          ↑
                        </button>
                        <button type="button" className="icon-button" aria-label={`Move ${PROVIDER_LABELS[p]} down`} onClick={() => move(p, 1)} disabled={providers.indexOf(p) === providers.length - 1}>
                          ↓
                        </button>
                      </>
                    )}
                  </li>
                );
              })}
            </ol>
          </fieldset>

          <fieldset>
            <legend>Precision</legend>
            <div className="field field-precision">
              <label htmlFor={ids.precision}>Model precision</label>
              <select id={ids.precision} value={d.precision} onChange={(e) => setDefaults({ ...d, precision: e.target.value as PrecisionChoice })} data-testid="precision-picker">
                <option value="auto">Automatic</option>
                <option value="fp16">fp16</option>
                <option value="fp32">fp32</option>
                <option value="int8">int8 — faster on the CPU, approximate</option>
              </select>
            </div>
            <p className="field-hint" data-testid="precision-hint">
              {d.precision === 'int8'
                ? "int8: the UNet's linear and convolution layers run as 8-bit products on the CPU — faster, with small differences from fp32 (the same seed gives a close but not identical clip). On a GPU the automatic choice is used."
                : 'Automatic: fp16 where the device runs it (CUDA, DirectML, WebGPU with shader-f16), else fp32.'}
            </p>
          </fieldset>

          <fieldset>
            <legend>Threads</legend>
            <label className="toggle">
              <input id={ids.threadsAuto} type="checkbox" checked={threads === null} onChange={(e) => setThreads(e.target.checked ? null : (navigator.hardwareConcurrency ?? 4))} />
              Let onnxruntime decide (one per physical core)
            </label>
            {threads !== null && (
              <div className="field field-narrow">
                <label htmlFor={ids.threads}>Intra-op threads</label>
                <input id={ids.threads} type="number" min={1} max={256} value={threads} onChange={(e) => Number.isInteger(e.target.valueAsNumber) && setThreads(Math.max(1, e.target.valueAsNumber))} />
              </div>
            )}
          </fieldset>

          <fieldset>
            <legend>Data folder</legend>
            <p>
              <code data-testid="data-dir">{settings.value.dataDir}</code>
            </p>
            <p className="field-hint">Models you copy in, outputs, exports and the history database live here. It is chosen when the studio starts (--data-dir or ANIMATELCM_DATA_DIR).</p>
          </fieldset>

          <fieldset>
            <legend>Defaults for new generations</legend>
            <div className="form-grid">
              <Slider label="Steps" value={d.steps} {...PARAM_LIMITS.steps} onChange={(steps) => setDefaults({ ...d, steps })} />
              <Slider label="Guidance" value={d.guidance} {...PARAM_LIMITS.guidance} onChange={(guidance) => setDefaults({ ...d, guidance: Math.round(guidance * 10) / 10 })} />
              <Slider label="Frames" value={d.frames} {...PARAM_LIMITS.frames} onChange={(frames) => setDefaults({ ...d, frames })} />
              <Slider label="Frame rate" value={d.fps} {...PARAM_LIMITS.fps} onChange={(fps) => setDefaults({ ...d, fps })} />
            </div>
            <div className="form-row">
              <div className="field field-narrow">
                <label htmlFor={ids.width}>Width</label>
                <input id={ids.width} type="number" min={64} max={1024} step={8} value={d.width} onChange={(e) => Number.isInteger(e.target.valueAsNumber) && setDefaults({ ...d, width: e.target.valueAsNumber })} />
              </div>
              <div className="field field-narrow">
                <label htmlFor={ids.height}>Height</label>
                <input id={ids.height} type="number" min={64} max={1024} step={8} value={d.height} onChange={(e) => Number.isInteger(e.target.valueAsNumber) && setDefaults({ ...d, height: e.target.valueAsNumber })} />
              </div>
              <div className="field">
                <label htmlFor={ids.negative}>Negative prompt</label>
                <input id={ids.negative} value={d.negativePrompt} onChange={(e) => setDefaults({ ...d, negativePrompt: e.target.value })} />
              </div>
            </div>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                const p = draft.params;
                setDefaults({ steps: p.steps, guidance: p.guidance, frames: p.frames, fps: p.fps, width: p.width, height: p.height, negativePrompt: p.negativePrompt, precision: d.precision });
              }}
            >
              Use the current Generate settings
            </button>
          </fieldset>
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={saving} data-testid="settings-save">
              {saving ? 'Saving…' : 'Save settings'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
