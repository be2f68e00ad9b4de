import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { SchedulerConfig } from '../../../shared/domain/generation';
import { parseClipTextConfig, parseMotionConfig, parseUNetConfig, parseVaeConfig } from '../../compiler/families/configs';
import { ModelSet } from '../../engine/models/model-set';
import type { ModelSource } from '../../engine/models/model-source';
import { textToVideo, type TextToVideoOptions, type TextToVideoResult, type Trace } from '../../engine/pipelines/text-to-video';
import type { PipelineModels } from '../../engine/pipelines/pipeline-models';
import { openCanonical, type Component } from '../canonical';
import { compareArrays } from '../compare';
import { npyF32, npyI64 } from '../run-graph';
import type { KindHandler, VerifyContext } from '../types';

/**
 * kind `pipeline_animatediff_lcm`: diffusers' AnimateDiffPipeline + LCMScheduler replayed through OUR pipeline
 * (src/main/engine/pipelines/text-to-video.ts) on OUR compiled sessions (ModelSet, as the studio runs them, fp32
 * CPU): the case's prompt embeddings, initial latents and per-step scheduler noise are injected, and every
 * per-step tensor, the decoded video and the frames are compared. The text encoder is checked separately on the
 * case's token ids. Latent-space tensors are compared relatively (random weights make LCM latents grow to ~100+);
 * model outputs and frames elementwise (|d| ≤ 1e-4 + 1e-4·|ref|).
 */

/** Relative L2 acceptance for latent-space tensors (reference: 1 vs 2 threads differ by ~8e-7 relative). */
export const LATENT_REL_L2 = 1e-4;

export const pipelineHandler: KindHandler = {
  kind: 'pipeline_animatediff_lcm',
  run: (ctx) => runPipelineCase(ctx),
};

/**
 * What a pipeline kind adds to the plain replay (e.g. ControlNet units): `prepare` runs before the pipeline and
 * returns its extra options; `check` runs after it, with the result; `dispose` always.
 */
export interface PipelineCaseExtension {
  prepare(): Promise<Pick<TextToVideoOptions, 'control'>>;
  check(result: TextToVideoResult): void;
  dispose(): Promise<void>;
}

/** Replays the case through our pipeline and reports every comparison (see the file comment). */
export async function runPipelineCase(ctx: VerifyContext, ext?: PipelineCaseExtension): Promise<void> {
  {
    const groupnorm = caseGroupnorm(ctx);
    const num = runNumbers(ctx);
    const source = caseSource(ctx);
    const set = new ModelSet(source, { cacheRoot: join(ctx.workDir, 'pipeline-cache'), providers: [ctx.target.provider], groupnorm, precision: ctx.target.precision, quant: ctx.target.quant });
    try {
      const models = set.models();
      const arr = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;

      await reportTextEncoder(ctx, models);

      const steps = num('steps');
      const guidance = num('guidance');
      const frames = num('frames');
      const cond = npyF32(join(ctx.dir, 'prompt_embeds.npy'));
      const noise = npyF32(join(ctx.dir, 'step_noise.npy'));
      const per = noise.data.length / Math.max(1, noise.shape[0]);
      const stepNoise = Array.from({ length: noise.shape[0] }, (_, i) => noise.data.slice(i * per, (i + 1) * per));
      const extra = ext ? await ext.prepare() : {};
      const result = await textToVideo(
        models,
        {
          prompt: '',
          negativePrompt: '',
          seed: typeof (ctx.files.run as { seed?: unknown } | undefined)?.seed === 'number' ? num('seed') : 0,
          steps,
          guidance,
          frames,
          width: num('width_px'),
          height: num('height_px'),
          clipSkip: 1,
          weighting: 'a1111',
          scheduler: schedulerFrom(ctx),
        },
        {
          inject: {
            promptEmbeds: { cond: cond.data, uncond: guidance > 1 ? arr('negative_prompt_embeds.npy') : undefined, tokens: cond.shape[1] },
            initialLatents: arr('initial_latents.npy'),
            stepNoise,
          },
          trace: true,
          sampleChunks: ctx.target.sampleChunks,
          ...extra,
        },
      );
      ext?.check(result);

      reportPipelineRun(ctx, result);
    } finally {
      await ext?.dispose();
      await set.dispose();
    }
  }
}

/**
 * Compares a traced pipeline run with the case: timesteps, every per-step tensor, the decoder input, the decoded
 * video and the frames (latent-space tensors relatively, the rest elementwise).
 */
export function reportPipelineRun(ctx: VerifyContext, result: TextToVideoResult): void {
  const arr = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;
  const trace = reportTimestepsAndSteps(ctx, result.timesteps, result.trace as Trace);
  ctx.report(compareArrays(ctx.name, 'vae_decoder_input', trace.latents[trace.latents.length - 1], arr('vae_decoder_input.npy'), { maxRelL2: LATENT_REL_L2 }));
  ctx.report(compareArrays(ctx.name, 'video_decoded_raw', trace.decodedRaw ?? new Float32Array(0), arr('video_decoded_raw.npy')));
  ctx.report(compareArrays(ctx.name, 'frames', result.frames, arr('frames.npy')));
}

/** files.json `groupnorm` (per_frame | across_frames), or a FORMAT_MISMATCH naming the case. */
export function caseGroupnorm(ctx: VerifyContext): 'per_frame' | 'across_frames' {
  const groupnorm = ctx.files.groupnorm;
  if (groupnorm !== 'per_frame' && groupnorm !== 'across_frames') {
    throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json groupnorm must be per_frame or across_frames, not ${String(groupnorm)}.`);
  }
  return groupnorm;
}

/** A reader of files.json `run.<key>` numbers that names a missing one. */
export function runNumbers(ctx: VerifyContext): (key: string) => number {
  const run = (ctx.files.run ?? {}) as Record<string, unknown>;
  return (k) => {
    const v = run[k];
    if (typeof v !== 'number') throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json run.${k} is missing.`);
    return v;
  };
}

/** The text encoder on the case's token ids (the pipeline itself gets the saved embeddings, as the reference did). */
export async function reportTextEncoder(ctx: VerifyContext, models: PipelineModels): Promise<void> {
  for (const [ids, embeds] of [
    ['prompt_input_ids.npy', 'prompt_embeds.npy'],
    ['negative_prompt_input_ids.npy', 'negative_prompt_embeds.npy'],
  ]) {
    if (!existsSync(join(ctx.dir, ids))) continue;
    const z = await models.encodeText(Array.from(npyI64(join(ctx.dir, ids)).data, Number), 1);
    ctx.report(compareArrays(ctx.name, `text_encoder ${embeds.replace('.npy', '')}`, z, npyF32(join(ctx.dir, embeds)).data));
  }
}

/**
 * The run's timesteps against `timesteps.npy`, then every per-step tensor of the trace against the case's
 * `step_*.npy` (one row per run step; latent-space tensors relatively). Shared by every pipeline kind.
 */
export function reportTimestepsAndSteps(ctx: VerifyContext, timesteps: number[], trace: Trace): Trace {
  const refTimesteps = Array.from(npyI64(join(ctx.dir, 'timesteps.npy')).data, Number);
  const tsOk = refTimesteps.length === timesteps.length && refTimesteps.every((t, i) => t === timesteps[i]);
  ctx.report({ case: ctx.name, what: 'timesteps', maxAbs: tsOk ? 0 : Number.POSITIVE_INFINITY, relL2: tsOk ? 0 : 1, pass: tsOk, note: tsOk ? undefined : `got ${timesteps.join(',')}, expected ${refTimesteps.join(',')}` });
  const latentWise = { maxRelL2: LATENT_REL_L2 };
  const perStep: Array<[keyof Trace, string, { maxRelL2?: number }]> = [
    ['latentsIn', 'step_latents_in.npy', latentWise],
    ['latentModelInput', 'step_latent_model_input.npy', latentWise],
    ['unetOutput', 'step_unet_output.npy', {}],
    ['noisePred', 'step_noise_pred.npy', {}],
    ['denoised', 'step_denoised.npy', latentWise],
    ['latents', 'step_latents.npy', latentWise],
  ];
  for (const [field, file, opts] of perStep) {
    const ours = trace[field] as Float32Array[];
    const ref = npyF32(join(ctx.dir, file)).data;
    const n = ref.length / refTimesteps.length;
    ours.forEach((o, i) => ctx.report(compareArrays(ctx.name, `step${i} ${file.replace('.npy', '').replace('step_', '')}`, o, ref.subarray(i * n, (i + 1) * n), opts)));
  }
  return trace;
}

/** The case's components (files.json `components`, configs beside each file) as a ModelSource. */
export function caseSource(ctx: VerifyContext): ModelSource {
  const comps = (ctx.files.components ?? {}) as Record<string, unknown>;
  const path = (key: string): string => {
    const p = comps[key];
    if (typeof p !== 'string') throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json components.${key} is missing.`);
    return resolve(ctx.dir, p);
  };
  const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  const configBeside = (file: string, ...names: string[]): Record<string, unknown> => {
    for (const n of names) if (existsSync(join(dirname(file), n))) return json(join(dirname(file), n));
    throw new StudioError('FILE_NOT_FOUND', `${ctx.name}: no ${names.join(' / ')} beside ${file}.`);
  };
  const files = { unet: path('unet'), motion: path('motion_adapter'), vae: path('vae'), text_encoder: path('text_encoder') };
  const adapterCfg = typeof comps.motion_adapter_config === 'string' ? json(resolve(ctx.dir, comps.motion_adapter_config)) : configBeside(files.motion, 'motion_adapter_config.json');
  const opened: Array<{ close(): void }> = [];
  const open = (file: string, c: Component) => {
    const o = openCanonical(file, c);
    opened.push(o);
    return o.weights;
  };
  try {
    return {
      label: `reference components of ${ctx.name}`,
      isStarter: false,
      configs: {
        unet: parseUNetConfig(configBeside(files.unet, 'config.json')),
        motion: parseMotionConfig(adapterCfg),
        vae: parseVaeConfig(configBeside(files.vae, 'config.json')),
        text_encoder: parseClipTextConfig(configBeside(files.text_encoder, 'config.json')),
      },
      weights: { unet: open(files.unet, 'unet'), motion: open(files.motion, 'motion'), vae: open(files.vae, 'vae'), text_encoder: open(files.text_encoder, 'text_encoder') },
      identity: { unet: [files.unet, files.motion], vae: [files.vae], text_encoder: [files.text_encoder] },
      loraReports: [],
      close: () => opened.forEach((o) => o.close()),
    };
  } catch (e) {
    opened.forEach((o) => o.close());
    throw e;
  }
}

/** files.json `scheduler_config` (diffusers LCMScheduler config) as the pipeline's SchedulerConfig. */
export function schedulerFrom(ctx: VerifyContext): SchedulerConfig {
  const j = (ctx.files.scheduler_config ?? JSON.parse(readFileSync(join(ctx.dir, 'scheduler_config.json'), 'utf8'))) as Record<string, unknown>;
  const unsupported = (['thresholding', 'clip_sample', 'rescale_betas_zero_snr'] as const).filter((k) => j[k] === true);
  if (unsupported.length > 0 || (j.prediction_type !== undefined && j.prediction_type !== 'epsilon') || j.trained_betas) {
    throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: scheduler_config uses options the pipeline does not expose (${unsupported.join(', ') || String(j.prediction_type)}).`);
  }
  const schedule = j.beta_schedule;
  if (schedule !== 'linear' && schedule !== 'scaled_linear') throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: beta_schedule ${String(schedule)} is not supported.`);
  const n = (k: string, d: number): number => (typeof j[k] === 'number' ? (j[k] as number) : d);
  return {
    name: 'lcm',
    beta_start: n('beta_start', 0.00085),
    beta_end: n('beta_end', 0.012),
    beta_schedule: schedule,
    num_train_timesteps: n('num_train_timesteps', 1000),
    // Absent means diffusers' default (50), not the product's (100): the case was made by diffusers.
    original_inference_steps: n('original_inference_steps', 50),
    timestep_scaling: n('timestep_scaling', 10),
  };
}
