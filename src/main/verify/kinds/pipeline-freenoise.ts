import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { ContextNoise, ContextWeighting, ContextWindowParams } from '../../../shared/domain/context-windows';
import { ModelSet } from '../../engine/models/model-set';
import { freeNoiseLatents } from '../../engine/freenoise/initial-noise';
import { interpolateKeyframes } from '../../engine/freenoise/prompt-travel';
import { TorchCpuGenerator } from '../../engine/noise/torch-randn';
import { textToVideo } from '../../engine/pipelines/text-to-video';
import { compareArrays } from '../compare';
import { npyF32, npyI64 } from '../run-graph';
import type { KindHandler } from '../types';
import { caseSource, reportPipelineRun, schedulerFrom } from './pipeline';

/**
 * kind `pipeline_animatediff_lcm_freenoise`: diffusers' AnimateDiffPipeline with FreeNoise (context windows,
 * weighting, noise type, prompt travel) + LCMScheduler, replayed through OUR pipeline in diffusers mode on OUR
 * compiled sessions. Unlike kind `pipeline_animatediff_lcm`, nothing random is injected: the initial noise (randn,
 * then the shuffle's randperms) and every step's noise come from our torch generator seeded with the case's seed,
 * so the draw order is checked too. The text encoder is checked on the keyframe ids; the per-frame embeddings are
 * our interpolation of the case's keyframe embeddings (exact against the case's per-frame file), and those go in.
 */

export const pipelineFreeNoiseHandler: KindHandler = {
  kind: 'pipeline_animatediff_lcm_freenoise',
  async run(ctx) {
    const groupnorm = ctx.files.groupnorm;
    if (groupnorm !== 'per_frame' && groupnorm !== 'across_frames') {
      throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json groupnorm must be per_frame or across_frames, not ${String(groupnorm)}.`);
    }
    const run = (ctx.files.run ?? {}) as Record<string, number>;
    const fn = (ctx.files.free_noise ?? {}) as Record<string, unknown>;
    const prompts = (ctx.files.prompts ?? {}) as Record<string, unknown>;
    const windows: ContextWindowParams = {
      length: fn.context_length as number,
      stride: fn.context_stride as number,
      weighting: fn.weighting_scheme as ContextWeighting,
      noise: fn.noise_type as ContextNoise,
      mode: 'diffusers',
    };
    const { steps, guidance, frames: F, generator_seed: seed } = run;
    const doCfg = guidance > 1;
    const arr = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;

    // Initial latents from the seed alone (randn, then the shuffle's randperms), bit for bit.
    const C = 4;
    const latents = freeNoiseLatents(new TorchCpuGenerator(BigInt(seed)), { batch: 1, channels: C, frames: F, height: run.lat_h, width: run.lat_w }, windows);
    ctx.report(compareArrays(ctx.name, 'initial_latents (randn + randperm from the seed)', latents, arr('initial_latents.npy'), { atol: 0, rtol: 0 }));

    // Prompt travel: our interpolation of the case's keyframe embeddings.
    const perFrame = (side: 'prompt' | 'negative'): Float32Array => {
      const file = side === 'prompt' ? 'prompt_keyframe_embeds.npy' : 'negative_keyframe_embeds.npy';
      const keys = (side === 'prompt' ? prompts.keyframes : prompts.negative_keyframes) as number[];
      const k = npyF32(join(ctx.dir, file));
      const per = k.data.length / k.shape[0];
      const ours = interpolateKeyframes(keys.map((_, i) => k.data.slice(i * per, (i + 1) * per)), keys, F);
      ctx.report(compareArrays(ctx.name, `${side} embeds per frame (keyframes ${keys.join(',')})`, ours, arr(side === 'prompt' ? 'prompt_embeds_per_frame.npy' : 'negative_prompt_embeds_per_frame.npy'), { atol: 0, rtol: 0 }));
      return ours;
    };
    const cond = perFrame('prompt');
    const uncond = doCfg ? perFrame('negative') : undefined;

    const set = new ModelSet(caseSource(ctx), { cacheRoot: join(ctx.workDir, 'pipeline-cache'), providers: [ctx.target.provider], groupnorm, precision: ctx.target.precision, quant: ctx.target.quant });
    try {
      const models = set.models();
      for (const [ids, embeds] of [
        ['prompt_keyframe_input_ids.npy', 'prompt_keyframe_embeds.npy'],
        ['negative_keyframe_input_ids.npy', 'negative_keyframe_embeds.npy'],
      ]) {
        if (!existsSync(join(ctx.dir, ids))) continue;
        const t = npyI64(join(ctx.dir, ids));
        const ref = arr(embeds);
        const per = ref.length / t.shape[0];
        for (let k = 0; k < t.shape[0]; k++) {
          const z = await models.encodeText(Array.from(t.data.subarray(k * 77, (k + 1) * 77), Number), 1);
          ctx.report(compareArrays(ctx.name, `text_encoder ${embeds.replace('.npy', '')}[${k}]`, z, ref.subarray(k * per, (k + 1) * per)));
        }
      }
      const result = await textToVideo(
        models,
        {
          prompt: '',
          negativePrompt: '',
          seed,
          steps,
          guidance,
          frames: F,
          width: run.width_px,
          height: run.height_px,
          clipSkip: 1,
          weighting: 'a1111',
          scheduler: schedulerFrom(ctx),
          contextWindows: windows,
        },
        { inject: { frameEmbeds: { cond, uncond, tokens: 77 } }, trace: true, sampleChunks: ctx.target.sampleChunks },
      );
      reportPipelineRun(ctx, result);
    } finally {
      await set.dispose();
    }
  },
};
