import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { parseClipTextConfig, parseUNetConfig, parseVaeConfig } from '../../compiler/families/configs';
import { applyLoraStack } from '../../engine/lora/stack';
import { ModelSet } from '../../engine/models/model-set';
import { ANIMATELCM_LORA_SCALE, type ModelSource } from '../../engine/models/model-source';
import { imageToVideoMode, type ImageToVideoTrace } from '../../engine/pipelines/image-to-video';
import { textToVideo, type Trace } from '../../engine/pipelines/text-to-video';
import { decodePng } from '../../formats/png';
import { openCanonical } from '../canonical';
import { compareArrays } from '../compare';
import { npyF32, openWeightsFile } from '../run-graph';
import type { KindHandler, VerifyContext } from '../types';
import { openI2vFile } from './i2v-adapter';
import { LATENT_REL_L2, reportTextEncoder, reportTimestepsAndSteps, runNumbers, schedulerFrom } from './pipeline';

/**
 * kind `pipeline_animatelcm_i2v`: the authors' AnimationPipeline (app-i2v.py flow) replayed through OUR
 * image-to-video mode of the pipeline on OUR compiled sessions (ModelSet, fp32 CPU), with the spatial LoRA
 * loaded at AnimateLCM's fixed 1/8 scale. The recorded draws (posterior noise, initial latents, step noise) and
 * the prompt embeddings are injected; the image preprocessing (Pillow LANCZOS + crop), the VAE posterior, the
 * image latent, every step, the decode, the frames before and after `adjust_colors` are compared.
 */


export const pipelineAnimateLcmI2vHandler: KindHandler = {
  kind: 'pipeline_animatelcm_i2v',
  async run(ctx) {
    const num = runNumbers(ctx);
    const comps = (ctx.files.components ?? {}) as Record<string, unknown>;
    const path = (key: string): string => {
      const p = comps[key];
      if (typeof p !== 'string') throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json components.${key} is missing.`);
      return resolve(ctx.dir, p);
    };
    const arr = (name: string): Float32Array => npyF32(join(ctx.dir, name)).data;
    const loraPath = path('lora');
    const multiplier = num('lcm_lora_multiplier');

    // The LoRA merge rule alone: W += (1/8)·m·up@down, the file's alpha ignored.
    if (existsSync(join(ctx.dir, 'lora_merged_sample.safetensors'))) {
      const u = openCanonical(path('unet_base'), 'unet');
      const sample = openWeightsFile(join(ctx.dir, 'lora_merged_sample.safetensors'));
      try {
        const merged = applyLoraStack({ unet: u.weights }, [{ file: loraPath, weight: multiplier, fixedScale: ANIMATELCM_LORA_SCALE }]).unet!;
        for (const name of sample.names()) ctx.report(compareArrays(ctx.name, `lora merged ${name}`, merged.get(name)!.readF32(), sample.get(name)!.readF32(), { atol: 1e-6, rtol: 1e-6 }));
      } finally {
        sample.close();
        u.close();
      }
    }

    const source = i2vCaseSource(ctx, path, loraPath, multiplier);
    const set = new ModelSet(source, { cacheRoot: join(ctx.workDir, 'i2v-cache'), providers: [ctx.target.provider], groupnorm: 'per_frame', precision: ctx.target.precision, quant: ctx.target.quant });
    try {
      const models = set.models();
      await reportTextEncoder(ctx, models);
      const steps = num('num_inference_steps');
      const guidance = num('guidance_scale');
      const frames = num('video_length');
      const width = num('width');
      const height = num('height');
      const png = decodePng(readFileSync(join(ctx.dir, 'input_image.png')));
      const image = { width: png.width, height: png.height, data: png.rgb };
      ctx.report(compareArrays(ctx.name, 'input image (PNG decode)', image.data, arr('input_image_uint8.npy'), { atol: 0, rtol: 0 }));
      const cond = npyF32(join(ctx.dir, 'prompt_embeds.npy'));
      const noise = npyF32(join(ctx.dir, 'step_noise.npy'));
      const per = noise.data.length / Math.max(1, noise.shape[0]);
      const i2vTrace: ImageToVideoTrace = {};
      const mode = imageToVideoMode({ image, motionScale: num('motion_scale'), colorMatch: true, width, height, posteriorNoise: arr('posterior_noise.npy') }, i2vTrace);
      const result = await textToVideo(
        models,
        { prompt: '', negativePrompt: '', seed: num('seed'), steps, guidance, frames, width, height, clipSkip: 1, weighting: 'a1111', scheduler: schedulerFrom(ctx) },
        {
          inject: {
            promptEmbeds: { cond: cond.data, uncond: guidance > 1 ? arr('negative_prompt_embeds.npy') : undefined, tokens: cond.shape[1] },
            initialLatents: arr('initial_latents.npy'),
            stepNoise: Array.from({ length: noise.shape[0] }, (_, i) => noise.data.slice(i * per, (i + 1) * per)),
          },
          trace: true,
          sampleChunks: ctx.target.sampleChunks,
          mode,
        },
      );

      // Image preprocessing and encoding.
      ctx.report(compareArrays(ctx.name, 'resize_and_crop (uint8 levels)', i2vTrace.cropped?.data ?? [], arr('resized_cropped_uint8.npy'), { atol: 0, rtol: 0 }));
      ctx.report(compareArrays(ctx.name, 'vae_input_image', i2vTrace.vaeInput ?? [], arr('vae_input_image.npy')));
      ctx.report(compareArrays(ctx.name, 'posterior_mean', i2vTrace.posteriorMean ?? [], arr('posterior_mean.npy')));
      ctx.report(compareArrays(ctx.name, 'posterior_std', i2vTrace.posteriorStd ?? [], arr('posterior_std.npy')));
      ctx.report(compareArrays(ctx.name, 'img_latent', i2vTrace.imgLatent ?? [], arr('img_latent.npy')));

      const trace = reportTimestepsAndSteps(ctx, result.timesteps, result.trace as Trace);
      const latentWise = { maxRelL2: LATENT_REL_L2 };
      ctx.report(compareArrays(ctx.name, 'final_latents', trace.latents[trace.latents.length - 1], arr('final_latents.npy'), latentWise));
      ctx.report(compareArrays(ctx.name, 'video_decoded_raw', trace.decodedRaw ?? [], arr('video_decoded_raw.npy')));
      const F = frames;
      const toVideo = (x: Float32Array): Float32Array => fhw3ToC3fhw(x, F, height, width);
      ctx.report(compareArrays(ctx.name, 'video_before_adjust', toVideo(trace.framesBeforeFinish ?? new Float32Array(0)), arr('video_before_adjust.npy')));
      // adjust_colors: uint8 levels; the reference's OpenCV build and ours may round a level apart (notes/i2v.md).
      const adjusted = Uint8Array.from(result.frames, (v) => Math.round(v * 255));
      ctx.report(compareArrays(ctx.name, 'frames_adjusted_uint8 (±2 levels)', adjusted, arr('frames_adjusted_uint8.npy'), { atol: 2, rtol: 0 }));
      ctx.report(compareArrays(ctx.name, 'videos (output, ±2/255)', toVideo(result.frames), arr('videos.npy'), { atol: 2 / 255 + 1e-6, rtol: 0 }));
    } finally {
      await set.dispose();
    }
  },
};

/** [F, H, W, 3] → [1, 3, F, H, W]. */
function fhw3ToC3fhw(x: Float32Array, F: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  const n = H * W;
  for (let f = 0; f < F; f++) for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[(c * F + f) * n + p] = x[(f * n + p) * 3 + c];
  return out;
}

export function i2vCaseSource(ctx: VerifyContext, path: (k: string) => string, loraPath: string, multiplier: number): ModelSource {
  const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  const i2vPath = path('i2v_ckpt');
  // The motion-module construction (heads, GroupNorm groups) is recorded with the module-level case.
  const moduleCase = join(dirname(i2vPath), 'files.json');
  const cfg = (existsSync(moduleCase) ? (json(moduleCase).config as Record<string, unknown> | undefined) : undefined) ?? {};
  const heads = ((cfg.motion_module_kwargs as { num_attention_heads?: number } | undefined)?.num_attention_heads ?? 8) as number;
  const groups = (cfg.motion_module_groupnorm_groups as number | undefined) ?? 32;
  const opened: Array<{ close(): void }> = [];
  try {
    const unet = openCanonical(path('unet_base'), 'unet');
    opened.push(unet);
    const vae = openCanonical(path('vae'), 'vae');
    opened.push(vae);
    const te = openCanonical(path('text_encoder'), 'text_encoder');
    opened.push(te);
    const i2v = openI2vFile(i2vPath, heads, groups);
    opened.push(i2v);
    const unetCfg = parseUNetConfig(json(path('unet_config')));
    return {
      label: `reference components of ${ctx.name}`,
      isStarter: false,
      configs: {
        unet: unetCfg,
        motion: i2v.motionCfg,
        vae: parseVaeConfig(json(join(dirname(path('vae')), 'config.json'))),
        text_encoder: parseClipTextConfig(json(join(dirname(path('text_encoder')), 'config.json'))),
      },
      weights: { unet: unet.weights, motion: i2v.motion, vae: vae.weights, text_encoder: te.weights, img_encoder: i2v.encoder },
      identity: { unet: [path('unet_base'), i2vPath], vae: [path('vae')], text_encoder: [path('text_encoder')], img_encoder: [i2vPath] },
      loras: [{ path: loraPath, weight: multiplier, fixedScale: ANIMATELCM_LORA_SCALE }],
      close: () => opened.forEach((o) => o.close()),
    };
  } catch (e) {
    opened.forEach((o) => o.close());
    throw e;
  }
}
