import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import type { ProviderStatus } from '../../../shared/api';
import type { ProviderName } from '../../../shared/domain/generation';
import { serializeError } from '../../../shared/errors';
import { ErrorPanel } from '../../components/ErrorPanel';
import { PromptEditor } from '../../components/PromptEditor';
import { SeedControl } from '../../components/SeedControl';
import { Slider } from '../../components/Slider';
import { randomSeed, useDraft } from '../../state/draft';
import { useJobs } from '../../state/jobs';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';
import { LoraStack } from './LoraStack';
import { QueueList } from './QueueList';
import { SIZE_MAX, SIZE_MIN, SIZE_PRESETS, SIZE_STEP } from './size-presets';

export const PROVIDER_LABELS: Record<ProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };

/** Prompt in, clip out: the form on the left, the queue with live previews on the right. */
export function GeneratePlace() {
  const { api, go } = useStudio();
  const draft = useDraft();
  const { params } = draft;
  const jobs = useJobs();
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<unknown>(null);
  const ids = { model: useId(), motion: useId(), provider: useId(), width: useId(), height: useId(), size: useId() };

  const models = useLoad(() => api.listModels(), [api]);
  const loras = useLoad(() => api.listLoras(), [api]);
  const engine = useLoad(() => api.getEngineInfo(), [api]);
  // A library import elsewhere shows up here when the panel is opened again; refresh after each finished job too.
  const reloadLoras = loras.reload;
  useEffect(() => {
    void reloadLoras();
  }, [jobs.finished, reloadLoras]);

  const checkpoints = (models.value ?? []).filter((m) => m.kind === 'checkpoint');
  const motions = (models.value ?? []).filter((m) => m.kind === 'motion');
  const model = checkpoints.find((m) => m.path === params.model);
  const usableProviders: ProviderStatus[] = (engine.value?.providers ?? []).filter((p) => p.usable);
  // The first provider of the order that starts here (the automatic order begins with CUDA, DirectML, WebGPU).
  const provider = params.providers.find((p) => usableProviders.some((u) => u.name === p)) ?? params.providers[0] ?? 'cpu';

  const submit = async () => {
    setSubmitting(true);
    setSubmitError(null);
    try {
      await jobs.generate({ ...params, loras: params.loras.map((l) => ({ ...l, enabled: l.enabled !== false })) });
      if (!draft.seedLocked) draft.update({ seed: randomSeed() });
    } catch (e) {
      setSubmitError(e);
    } finally {
      setSubmitting(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void submit();
    }
  };

  const sizeKey = `${params.width}x${params.height}`;
  const preset = SIZE_PRESETS.find((p) => `${p.width}x${p.height}` === sizeKey);

  return (
    <section className="place place-generate" data-place="generate">
      <h1 id="place-title">Generate</h1>
      <p className="place-summary">Prompt in, short animated clip out. Ctrl+Enter queues from anywhere in the form.</p>
      <div className="generate-layout">
        <form
          className="generate-form"
          noValidate
          onKeyDown={onKeyDown}
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
          aria-label="Generation settings"
        >
          <PromptEditor label="Prompt" value={params.prompt} onChange={(prompt) => draft.update({ prompt })} placeholder="a fox running through snow, (watercolor:1.2)" testId="prompt" />
          <PromptEditor label="Negative prompt" value={params.negativePrompt} onChange={(negativePrompt) => draft.update({ negativePrompt })} rows={2} placeholder="blurry, low quality" testId="negative-prompt" />

          <div className="form-row">
            <div className="field">
              <label htmlFor={ids.model}>Model</label>
              <select id={ids.model} value={params.model ?? ''} onChange={(e) => draft.update({ model: e.target.value || undefined })} data-testid="model-picker">
                <option value="">Starter test model (random weights — abstract output)</option>
                {checkpoints.map((m) => (
                  <option key={m.id} value={m.path} disabled={!m.supported}>
                    {m.name} ({m.familyLabel}){m.supported ? '' : ' — cannot be used'}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.motion}>Motion module</label>
              <select id={ids.motion} value={params.motion ?? ''} onChange={(e) => draft.update({ motion: e.target.value || undefined })} data-testid="motion-picker">
                <option value="">{params.model ? 'Choose a motion module' : "The starter model's own"}</option>
                {motions.map((m) => (
                  <option key={m.id} value={m.path} disabled={!m.supported}>
                    {m.name}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {models.error && <ErrorPanel error={models.error} title="The library could not be read" compact />}

          <LoraStack loras={loras.value ?? []} modelFamily={model?.family ?? null} onRefresh={() => void loras.reload()} />
          <p className="field-hint">
            <button type="button" className="link-button" onClick={() => go('library')}>
              Browse the LoRA library
            </button>
          </p>

          <SeedControl seed={params.seed} locked={draft.seedLocked} onSeed={(seed) => draft.update({ seed })} onLocked={draft.setSeedLocked} onRoll={() => draft.update({ seed: randomSeed() })} />

          <div className="form-grid">
            <Slider label="Steps" value={params.steps} min={1} max={12} onChange={(steps) => draft.update({ steps })} hint="4 is enough with AnimateLCM; 6–8 for more detail." testId="steps" />
            <Slider label="Guidance" value={params.guidance} min={1} max={3} step={0.1} onChange={(guidance) => draft.update({ guidance: Math.round(guidance * 10) / 10 })} hint="1 is twice as fast; 1.5 follows the prompt and negative prompt more." testId="guidance" />
            <Slider label="Frames" value={params.frames} min={2} max={32} onChange={(frames) => draft.update({ frames })} hint="16 is what the motion module was trained on." testId="frames" />
            <Slider label="Frames per second" value={params.fps} min={1} max={30} onChange={(fps) => draft.update({ fps })} testId="fps" />
          </div>

          <div className="form-row">
            <div className="field">
              <label htmlFor={ids.size}>Size</label>
              <select
                id={ids.size}
                value={preset ? sizeKey : 'custom'}
                data-testid="size-preset"
                onChange={(e) => {
                  const p = SIZE_PRESETS.find((x) => `${x.width}x${x.height}` === e.target.value);
                  if (p) draft.update({ width: p.width, height: p.height });
                }}
              >
                {SIZE_PRESETS.map((p) => (
                  <option key={p.label} value={`${p.width}x${p.height}`}>
                    {p.label}
                  </option>
                ))}
                {!preset && <option value="custom">Custom {params.width}×{params.height}</option>}
              </select>
            </div>
            <div className="field field-narrow">
              <label htmlFor={ids.width}>Width</label>
              <input id={ids.width} type="number" min={SIZE_MIN} max={SIZE_MAX} step={SIZE_STEP} value={params.width} onChange={(e) => Number.isInteger(e.target.valueAsNumber) && draft.update({ width: e.target.valueAsNumber })} />
            </div>
            <div className="field field-narrow">
              <label htmlFor={ids.height}>Height</label>
              <input id={ids.height} type="number" min={SIZE_MIN} max={SIZE_MAX} step={SIZE_STEP} value={params.height} onChange={(e) => Number.isInteger(e.target.valueAsNumber) && draft.update({ height: e.target.valueAsNumber })} />
            </div>
            <div className="field">
              <label htmlFor={ids.provider}>Runs on</label>
              <select id={ids.provider} value={provider} onChange={(e) => draft.update({ providers: [e.target.value as ProviderName] })} data-testid="provider-picker">
                {(usableProviders.length > 0 ? usableProviders.map((p) => p.name) : [provider]).map((p) => (
                  <option key={p} value={p}>
                    {PROVIDER_LABELS[p] ?? p}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {(params.width % SIZE_STEP !== 0 || params.height % SIZE_STEP !== 0) && <p className="warning-line">Width and height must be multiples of {SIZE_STEP}.</p>}

          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={submitting} data-testid="generate">
              {submitting ? 'Queueing…' : 'Generate'}
            </button>
            <span className="field-hint">{draft.seedLocked ? 'Seed locked.' : 'A new seed is rolled after each queued job.'}</span>
          </div>
          {submitError !== null && <SubmitError error={submitError} onDismiss={() => setSubmitError(null)} />}
        </form>
        <QueueList />
      </div>
    </section>
  );
}

function SubmitError({ error, onDismiss }: { error: unknown; onDismiss: () => void }) {
  return (
    <div className="submit-error">
      <ErrorPanel error={serializeError(error)} title="The job was not queued" />
      <button type="button" className="link-button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
