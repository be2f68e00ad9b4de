import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { serializeError, StudioError } from '../../../shared/errors';
import { applyPromptLoras, extractPromptLoras, findLoraForTag } from '../../../shared/domain/prompt-loras';
import { PARAM_LIMITS } from '../../../shared/domain/param-limits';
import { ErrorPanel } from '../../components/ErrorPanel';
import { PromptEditor } from '../../components/PromptEditor';
import { SeedControl } from '../../components/SeedControl';
import { Slider } from '../../components/Slider';
import { randomSeed, useDraft } from '../../state/draft';
import { useJobs, type JobView } from '../../state/jobs';
import { useStudio } from '../../state/studio-api';
import { useLoad } from '../../state/use-load';
import { ExtraFiles } from './ExtraFiles';
import { InputMedia } from './InputMedia';
import { AdvancedOptions } from './AdvancedOptions';
import { MAX_LONG_CLIP_FRAMES } from '../../../shared/domain/context-windows';
import { LongClipControls, LONG_CLIP_HINT } from './LongClipControls';
import { LoraStack } from './LoraStack';
import { ControlNetUnits } from './ControlNetUnits';
import { QueueList } from './QueueList';
import { SIZE_MAX, SIZE_MIN, SIZE_PRESETS, SIZE_STEP } from './size-presets';
import { TokenCounter } from './TokenCounter';
import { Viewer } from './Viewer';
import { middleEllipsis } from './middle-ellipsis';
import { STARTER_MODEL_NAME, STARTER_MODEL_NOTE } from './starter-model';

export { PROVIDER_LABELS } from './provider-labels';

/** What the side panel's full-width select shows of a name before cutting it in the middle. */
const NAME_CHARS = 28;

/** The job the viewer shows: the one chosen in the strip, else the running one, else the newest. */
function pickShown(jobs: JobView[], selectedId: string | null): JobView | null {
  const chosen = selectedId ? jobs.find((j) => j.jobId === selectedId) : undefined;
  if (chosen) return chosen;
  return jobs.find((j) => j.status === 'running') ?? jobs[jobs.length - 1] ?? null;
}

/** The take before `job` (the newest finished job queued before it), for comparison. */
function previousTake(jobs: JobView[], job: JobView | null): JobView | null {
  if (!job) return null;
  const at = jobs.findIndex((j) => j.jobId === job.jobId);
  for (let i = at - 1; i >= 0; i--) if (jobs[i].status === 'done') return jobs[i];
  return null;
}

/**
 * Prompt in, clip out: the controls in a side panel whose Generate button never scrolls away, a large viewer in the
 * middle, the queue as a strip under it. A running job's progress is shown in the viewer (large) and on its queue
 * card (compact) only: a third line under the Generate button said the same again.
 */
export function GeneratePlace() {
  const { api, go } = useStudio();
  const draft = useDraft();
  const { params } = draft;
  const jobs = useJobs();
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<unknown>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const ids = { model: useId(), modelNote: useId(), motion: useId(), width: useId(), height: useId(), size: useId() };

  const models = useLoad(() => api.listModels(), [api]);
  const loras = useLoad(() => api.listLoras(), [api]);
  const engine = useLoad(() => api.getEngineInfo(), [api]);
  // A library import elsewhere shows up here when the panel is opened again; refresh after each finished job too.
  const reloadLoras = loras.reload;
  useEffect(() => {
    void reloadLoras();
  }, [jobs.finished, reloadLoras]);

  // Only what can run is offered: a UNet-only file, an SDXL model or a foreign text encoder stays in the library,
  // where its card says why.
  const checkpoints = (models.value ?? []).filter((m) => m.kind === 'checkpoint' && m.supported);
  const motions = (models.value ?? []).filter((m) => m.kind === 'motion' && m.supported);
  const model = checkpoints.find((m) => m.path === params.model);
  const library = useMemo(() => loras.value ?? [], [loras.value]);

  // <lora:name:weight> tags: say now which will apply and which name no library LoRA.
  const tagNotes = useMemo(() => {
    const { tags } = extractPromptLoras(params.prompt);
    return tags.map((t) => {
      const item = findLoraForTag(t, library);
      return item ? `${t.text} applies ${item.name} at ${t.weight} when you press Generate.` : `${t.text}: no LoRA named “${t.name}” in the library, so Generate will refuse it. Import it first.`;
    });
  }, [params.prompt, library]);

  const submit = async () => {
    setSubmitting(true);
    setSubmitError(null);
    try {
      const embeddings = (params.embeddings ?? []).filter((e) => e.path.trim() !== '');
      const applied = applyPromptLoras({ ...params, loras: params.loras.map((l) => ({ ...l, enabled: l.enabled !== false })), embeddings: embeddings.length > 0 ? embeddings : undefined }, library);
      if (!applied.ok) {
        throw new StudioError('BAD_REQUEST', `The prompt names ${applied.missing.map((t) => `“${t.name}”`).join(', ')}, which the library does not have. Import the LoRA or remove the tag.`, {
          tags: applied.missing.map((t) => t.text),
        });
      }
      await jobs.generate(applied.params);
      setSelectedId(null); // follow the new job in the viewer
      if (!draft.seedLocked) draft.update({ seed: randomSeed() });
    } catch (e) {
      setSubmitError(e);
    } finally {
      setSubmitting(false);
    }
  };

  // Ctrl+Enter queues from anywhere on this place, not only from inside the form.
  const submitRef = useRef(submit);
  submitRef.current = submit;
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.defaultPrevented || e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      void submitRef.current();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void submit();
    }
  };

  const sizeKey = `${params.width}x${params.height}`;
  const preset = SIZE_PRESETS.find((p) => `${p.width}x${p.height}` === sizeKey);
  const shown = pickShown(jobs.jobs, selectedId);

  return (
    <section className="place place-generate" data-place="generate">
      <div className="generate-layout">
        <aside className="generate-panel" aria-labelledby="place-title">
          <div className="generate-panel-head">
            <h1 id="place-title">Generate</h1>
            <p className="place-summary">Prompt in, short animated clip out.</p>
          </div>
          <form
            id="generate-form"
            className="generate-form"
            noValidate
            onKeyDown={onKeyDown}
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
            aria-label="Generation settings"
          >
            {/* First, as in A1111's checkpoint bar: which model and motion module a clip comes from is read before the
                prompt and is in view at 1280×720. One per line: the panel is narrow and model names are long; the
                select's title shows the whole name. The picker holds the name alone (name and family together were
                cut after the name); what the chosen model is — its family, or what the starter makes — is the line
                under it. */}
            <div className="form-stack">
              <div className="field">
                <label htmlFor={ids.model}>Model</label>
                <select
                  id={ids.model}
                  value={params.model ?? ''}
                  title={model ? `${model.name} (${model.familyLabel})` : STARTER_MODEL_NAME}
                  onChange={(e) => draft.update({ model: e.target.value || undefined })}
                  aria-describedby={ids.modelNote}
                  data-testid="model-picker"
                >
                  <option value="">{STARTER_MODEL_NAME}</option>
                  {checkpoints.map((m) => (
                    <option key={m.id} value={m.path} title={`${m.name} (${m.familyLabel}) · ${m.path}`}>
                      {middleEllipsis(m.name, NAME_CHARS)}
                    </option>
                  ))}
                </select>
                <p id={ids.modelNote} className="field-hint" data-testid="model-note">
                  {params.model ? (model?.familyLabel ?? (models.value ? 'Not in the library: choose another, or import it there' : '')) : STARTER_MODEL_NOTE}
                </p>
              </div>
              <div className="field">
                <label htmlFor={ids.motion}>Motion module</label>
                <select id={ids.motion} value={params.motion ?? ''} title={motions.find((m) => m.path === params.motion)?.name ?? (params.model ? 'Choose a motion module' : "The starter model's own")} onChange={(e) => draft.update({ motion: e.target.value || undefined })} data-testid="motion-picker">
                  <option value="">{params.model ? 'Choose a motion module' : "The starter model's own"}</option>
                  {motions.map((m) => (
                    <option key={m.id} value={m.path} disabled={!m.supported} title={`${m.name} · ${m.path}`}>
                      {middleEllipsis(m.name, NAME_CHARS)}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            {models.error && <ErrorPanel error={models.error} title="The library could not be read" compact />}

            <PromptEditor
              label="Prompt"
              value={params.prompt}
              onChange={(prompt) => draft.update({ prompt })}
              placeholder="Describe the clip, e.g. a fox running through snow, (watercolor:1.2)"
              testId="prompt"
              notes={tagNotes}
              footer={<TokenCounter text={extractPromptLoras(params.prompt).prompt} mode={params.weighting} testId="prompt-tokens" />}
            />
            <PromptEditor
              label="Negative prompt"
              value={params.negativePrompt}
              onChange={(negativePrompt) => draft.update({ negativePrompt })}
              rows={2}
              placeholder="Optional: what to steer away from"
              testId="negative-prompt"
              loraTags="ignore"
              footer={<TokenCounter text={params.negativePrompt} mode={params.weighting} testId="negative-tokens" />}
            />

            <InputMedia params={params} update={draft.update} />

            <LoraStack loras={library} modelFamily={model?.family ?? null} onRefresh={() => void loras.reload()} />
            <p className="field-hint">
              <button type="button" className="link-button" onClick={() => go('library')}>
                Browse the LoRA library
              </button>
            </p>

            {/* What is changed take after take (seed, steps, guidance, frames, size) before the optional extras, as in
                A1111's txt2img: embeddings, ControlNet and long-clip options follow. */}
            <SeedControl seed={params.seed} locked={draft.seedLocked} onSeed={(seed) => draft.update({ seed })} onLocked={draft.setSeedLocked} onRoll={() => draft.update({ seed: randomSeed() })} />

            <div className="form-grid">
              <Slider label="Steps" value={params.steps} {...PARAM_LIMITS.steps} onChange={(steps) => draft.update({ steps })} hint="4 is enough with AnimateLCM; 6–8 for more detail." testId="steps" />
              <Slider label="Guidance" value={params.guidance} {...PARAM_LIMITS.guidance} onChange={(guidance) => draft.update({ guidance: Math.round(guidance * 10) / 10 })} hint="1 is twice as fast; 1.5 follows the prompt more." testId="guidance" />
              <Slider label="Frames" value={params.frames} {...PARAM_LIMITS.frames} max={params.contextWindows ? MAX_LONG_CLIP_FRAMES : PARAM_LIMITS.frames.max} hardMax={params.contextWindows ? MAX_LONG_CLIP_FRAMES : PARAM_LIMITS.frames.hardMax} onChange={(frames) => draft.update({ frames })} hint={params.contextWindows ? LONG_CLIP_HINT : '16 is what the motion module was trained on; turn on context windows (below) for up to 256.'} testId="frames" />
              <Slider label="Frame rate" value={params.fps} {...PARAM_LIMITS.fps} onChange={(fps) => draft.update({ fps })} testId="fps" />
            </div>

            <div className="form-row size-row">
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
            </div>
            {(params.width % SIZE_STEP !== 0 || params.height % SIZE_STEP !== 0) && <p className="warning-line">Width and height must be multiples of {SIZE_STEP}.</p>}

            <ExtraFiles items={models.value ?? []} onOpenLibrary={() => go('library')} />
            <ControlNetUnits />

            <LongClipControls params={params} update={draft.update} />

            <AdvancedOptions providers={engine.value?.providers ?? []} loras={library} />
          </form>

          <div className="generate-footer" data-testid="generate-footer">
            {submitError !== null && <SubmitError error={submitError} onDismiss={() => setSubmitError(null)} />}
            <div className="form-actions">
              <button type="submit" form="generate-form" className="button button-primary button-large" disabled={submitting} data-testid="generate" aria-keyshortcuts="Control+Enter">
                {submitting ? 'Queueing…' : 'Generate'}
              </button>
              <span className="field-hint">
                Ctrl+Enter · {draft.seedLocked ? 'seed locked' : 'new seed after each job'}
              </span>
            </div>
          </div>
        </aside>

        <div className="generate-stage">
          <Viewer job={shown} previous={previousTake(jobs.jobs, shown)} />
          <QueueList selectedId={shown?.jobId ?? null} onSelect={setSelectedId} />
        </div>
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
