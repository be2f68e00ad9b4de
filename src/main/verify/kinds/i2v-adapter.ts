import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { parseUNetConfig, type MotionConfig, type UNetConfig } from '../../compiler/families/configs';
import { detectModel } from '../../compiler/families/detect';
import { buildImageEncoderGraph, imageFeatureName } from '../../compiler/families/image-encoder';
import { buildUNetGraph, imageFeatureLevels } from '../../compiler/families/unet';
import { readNpyF32 } from '../../compiler/io/npy';
import { openModel } from '../../compiler/io/open';
import type { WeightSet } from '../../compiler/io/tensor';
import { canonicalize } from '../../compiler/names/canonicalize';
import { f32Tensor, type HostTensor } from '../../engine/runtime/session';
import { compareArrays } from '../compare';
import { graphOptionsFor, openGraph, runGraphOnce } from '../run-graph';
import { CPU_FP32, type KindHandler, type VerifyContext, type VerifyTarget } from '../types';
import { foldFrames, unfoldFrames } from './unet-motion';
import { loadDiffusersUNet, perLayout } from './unet2d';

/**
 * `i2v_adapter` cases (AnimateLCM-I2V at module level, the authors' UNet3DConditionModel): the image encoder's
 * features for every `inputs.motion_scales` value and for `insertion_weights_custom`, and the UNet + motion
 * modules with those features injected, without an image (the plain graph), and with all-zero features (the
 * image graph given nothing: must equal the plain one). Weights: the base UNet of `weights.unet_weights` and the
 * I2V file (motion modules + `img_encoder.*`) as `.ckpt` and as `.safetensors`, both through the studio's loader.
 */

interface I2vFile {
  motion: WeightSet;
  encoder: WeightSet;
  motionCfg: MotionConfig;
  close(): void;
}

/** The I2V file as the studio opens it: canonical motion modules + image encoder, motion config from detection. */
export function openI2vFile(path: string, heads: number, groups: number): I2vFile {
  const table = openModel(path);
  try {
    const c = canonicalize(table);
    if (c.unmatched.length > 0) throw new Error(`${path}: ${c.unmatched.length} key(s) the canonicaliser cannot place, e.g. ${c.unmatched.slice(0, 3).join(', ')}`);
    const det = detectModel(table, c);
    const { motion, img_encoder: encoder } = c.components;
    const mc = det.configs.motion;
    if (!motion || !encoder || !mc) throw new Error(`${path} holds no motion module with an image encoder`);
    return { motion, encoder, motionCfg: { ...mc, motion_num_attention_heads: heads, motion_norm_num_groups: groups }, close: () => table.close() };
  } catch (e) {
    table.close();
    throw e;
  }
}

/** Runs the image encoder once; returns the features per level, [B·F, C_i, h_i, w_i] each. */
export async function runImageEncoder(
  encoder: WeightSet,
  latent: { shape: number[]; data: Float32Array },
  o: { frames: number; levels: number; motionScale: number; insertionWeights: number[]; workDir: string; target?: VerifyTarget },
): Promise<HostTensor[]> {
  const [b, , h, w] = latent.shape;
  const target = o.target ?? CPU_FP32;
  const graph = buildImageEncoderGraph(encoder, { batch: b, frames: o.frames, latentHeight: h, latentWidth: w, levels: o.levels, floatType: target.precision });
  const out = await runGraphOnce(graph, o.workDir, {
    img_latent: f32Tensor(latent.data, latent.shape),
    motion_scale: f32Tensor(Float32Array.of(o.motionScale), [1]),
    insertion_weights: f32Tensor(Float32Array.from(o.insertionWeights), [o.levels]),
  }, target);
  return Array.from({ length: o.levels }, (_, i) => out[imageFeatureName(i)]);
}

function repeatRows(x: { shape: number[]; data: Float32Array }, times: number): { shape: number[]; data: Float32Array } {
  const [b, ...rest] = x.shape;
  const per = x.data.length / b;
  const out = new Float32Array(x.data.length * times);
  for (let i = 0; i < b; i++) for (let f = 0; f < times; f++) out.set(x.data.subarray(i * per, (i + 1) * per), (i * times + f) * per);
  return { shape: [b * times, ...rest], data: out };
}

function fmtScale(s: number): string {
  return String(s).replace('.', 'p');
}

export const i2vAdapterHandler: KindHandler = {
  kind: 'i2v_adapter',
  async run(ctx: VerifyContext) {
    const config = ctx.files.config as { unet2d_base?: Record<string, unknown>; motion_module_kwargs?: { num_attention_heads?: number }; motion_module_groupnorm_groups?: number } | undefined;
    const weights = (ctx.files.weights ?? {}) as Record<string, unknown>;
    const inputs = (ctx.files.inputs ?? {}) as { timesteps?: number[]; motion_scales?: number[]; insertion_weights_custom?: number[] };
    if (!config?.unet2d_base || typeof weights.unet_weights !== 'string' || !inputs.timesteps || !inputs.motion_scales) {
      throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json needs config.unet2d_base, weights.unet_weights, inputs.timesteps and inputs.motion_scales.`);
    }
    const cfg: UNetConfig = parseUNetConfig(config.unet2d_base);
    const heads = config.motion_module_kwargs?.num_attention_heads ?? 8;
    const groups = config.motion_module_groupnorm_groups ?? 32;
    const levels = cfg.block_out_channels.length;
    const injected = imageFeatureLevels(cfg);
    const imgLatent = readNpyF32(join(ctx.dir, 'img_latent.npy'));
    const video = readNpyF32(join(ctx.dir, 'sample.npy'));
    const frames = video.shape[2];
    const batch = video.shape[0];
    const sample = foldFrames(video);
    const context = repeatRows(readNpyF32(join(ctx.dir, 'encoder_hidden_states.npy')), frames);
    const [, , hh, ww] = sample.shape;

    const i2vFiles = (['i2v_ckpt', 'i2v_safetensors'] as const)
      .map((k) => ({ label: k === 'i2v_ckpt' ? 'ckpt' : 'safetensors', path: typeof weights[k] === 'string' ? resolve(ctx.dir, weights[k]) : '' }))
      .filter((f) => f.path && existsSync(f.path));
    if (i2vFiles.length === 0) throw new StudioError('FILE_NOT_FOUND', `${ctx.name}: neither weights.i2v_ckpt nor weights.i2v_safetensors exists.`);

    const runs: Array<{ label: string; scale: number; iw: number[]; featureFiles: string[]; noisePred: (t: number) => string | undefined }> = inputs.motion_scales.map((s) => ({
      label: `ms${s}`,
      scale: s,
      iw: Array<number>(levels).fill(1),
      featureFiles: Array.from({ length: levels }, (_, i) => `adapter_features_ms${fmtScale(s)}_l${i}.npy`),
      noisePred: (t) => `noise_pred_img_ms${fmtScale(s)}_t${t}.npy`,
    }));
    const iwOut = (ctx.files.outputs as { features_insertion_weights?: { motion_scale: number; insertion_weights: number[]; files: string[] }; noise_pred_insertion_weights?: string } | undefined) ?? {};
    if (iwOut.features_insertion_weights) {
      const fi = iwOut.features_insertion_weights;
      const np = iwOut.noise_pred_insertion_weights;
      const npT = np ? Number(/_t(\d+)\.npy$/.exec(np)?.[1]) : Number.NaN;
      runs.push({ label: `ms${fi.motion_scale} insertion_weights`, scale: fi.motion_scale, iw: fi.insertion_weights, featureFiles: fi.files, noisePred: (t) => (t === npT ? np : undefined) });
    }

    for (const file of i2vFiles) {
      await perLayout(ctx, file.label, async () => {
        const u = loadDiffusersUNet(resolve(ctx.dir, weights.unet_weights as string));
        const i2v = openI2vFile(file.path, heads, groups);
        try {
          const motion = { w: i2v.motion, cfg: i2v.motionCfg, frames, groupnorm: 'per_frame' as const };
          const shapeOpts = { batch, latentHeight: hh, latentWidth: ww, contextLength: context.shape[1], motion, ...graphOptionsFor(ctx.target) };
          const plain = await openGraph(buildUNetGraph(u.weights, cfg, shapeOpts), ctx.workDir, ctx.target);
          const withImg = await openGraph(buildUNetGraph(u.weights, cfg, { ...shapeOpts, imageFeatures: true }), ctx.workDir, ctx.target);
          try {
            const base = { sample: f32Tensor(sample.data, sample.shape), encoder_hidden_states: f32Tensor(context.data, context.shape) };
            const zeros: Record<string, HostTensor> = {};
            for (const t of inputs.timesteps!) {
              const ref = readNpyF32(join(ctx.dir, `noise_pred_noimg_t${t}.npy`)).data;
              const p = await plain.run({ ...base, timestep: f32Tensor(Float32Array.of(t), [1]) });
              ctx.report(compareArrays(ctx.name, `${file.label} no image noise_pred_t${t}`, unfoldFrames(p.noise_pred.data as Float32Array, sample.shape, frames), ref));
              for (const i of injected) zeros[imageFeatureName(i)] = f32Tensor(new Float32Array(withImg.inputShape(imageFeatureName(i)).reduce((a, b) => a * b, 1)), withImg.inputShape(imageFeatureName(i)));
              const z = await withImg.run({ ...base, ...zeros, timestep: f32Tensor(Float32Array.of(t), [1]) });
              ctx.report(compareArrays(ctx.name, `${file.label} zero features noise_pred_t${t}`, unfoldFrames(z.noise_pred.data as Float32Array, sample.shape, frames), ref));
            }
            for (const r of runs) {
              const feats = await runImageEncoder(i2v.encoder, imgLatent, { frames, levels, motionScale: r.scale, insertionWeights: r.iw, workDir: ctx.workDir, target: ctx.target });
              feats.forEach((f, i) => {
                const refPath = join(ctx.dir, r.featureFiles[i]);
                if (existsSync(refPath)) ctx.report(compareArrays(ctx.name, `${file.label} ${r.label} feature_l${i}`, unfoldFrames(f.data as Float32Array, f.dims, frames), readNpyF32(refPath).data));
              });
              const featFeeds = Object.fromEntries(injected.map((i) => [imageFeatureName(i), feats[i]]));
              for (const t of inputs.timesteps!) {
                const refName = r.noisePred(t);
                if (!refName || !existsSync(join(ctx.dir, refName))) continue;
                const o = await withImg.run({ ...base, ...featFeeds, timestep: f32Tensor(Float32Array.of(t), [1]) });
                ctx.report(compareArrays(ctx.name, `${file.label} ${r.label} noise_pred_t${t}`, unfoldFrames(o.noise_pred.data as Float32Array, sample.shape, frames), readNpyF32(join(ctx.dir, refName)).data));
              }
            }
          } finally {
            await plain.dispose();
            await withImg.dispose();
          }
        } finally {
          i2v.close();
          u.close();
        }
      });
    }
  },
};
