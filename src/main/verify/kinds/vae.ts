import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { emitModel } from '../../compiler/graph/emit';
import { createSession, f32Tensor } from '../../engine/runtime/session';
import { parseVaeConfig } from '../../compiler/families/configs';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../compiler/families/vae';
import type { WeightSet } from '../../compiler/io/tensor';
import { openVaeOverride } from '../../engine/models/vae-override';
import { openCanonical, singleFileLayouts } from '../canonical';
import { compareArrays } from '../compare';
import { f32, graphOptionsFor, npyF32, runGraphOnce } from '../run-graph';
import type { KindHandler, VerifyContext } from '../types';
import type { VaeConfig } from '../../compiler/families/configs';

/**
 * kind `vae`: decoder (z.npy → decoded.npy) and encoder (image.npy → encoder_moments.npy) from every weight
 * layout the case ships. z.npy is the unscaled latent, as the decoder graph expects; files.json's
 * scaling_factor is checked against the config so a case with a different factor cannot pass by accident.
 * A case with `override` (a standalone VAE replacing a checkpoint's) is also loaded the way the studio loads
 * `--vae` files (engine/models/vae-override.ts, checked against the replaced VAE), and its `pipeline_decode`
 * latents are decoded as the pipeline decodes them.
 */
export const vaeHandler: KindHandler = {
  kind: 'vae',
  async run(ctx) {
    const configJson = (ctx.files.config ?? readConfig(ctx.dir)) as Record<string, unknown>;
    const cfg = parseVaeConfig(configJson);
    const sf = ctx.files.scaling_factor;
    if (typeof sf === 'number' && Math.abs(sf - cfg.scaling_factor) > 1e-12) {
      throw new Error(`files.json scaling_factor ${sf} differs from the config's ${cfg.scaling_factor}`);
    }
    const override = ctx.files.override as { standalone_file?: unknown; replaces?: unknown; same_config_as?: unknown } | undefined;
    const layouts = override && typeof override.standalone_file === 'string' ? [] : singleFileLayouts(ctx.dir);
    for (const layout of layouts) {
      const file = openCanonical(join(ctx.dir, layout.file), 'vae');
      try {
        await compareVae(ctx, layout.label, file.weights, cfg);
      } finally {
        file.close();
      }
    }
    if (override && typeof override.standalone_file === 'string') {
      // The replaced VAE: the folder named by `same_config_as` (its weights define the names and shapes to fit).
      const baseDir = typeof override.same_config_as === 'string' ? dirname(resolve(ctx.dir, override.same_config_as)) : join(ctx.dir, '..', 'vae');
      const base = openCanonical(join(baseDir, singleFileLayouts(baseDir)[0].file), 'vae');
      try {
        const vae = openVaeOverride(join(ctx.dir, override.standalone_file), { weights: base.weights, config: cfg });
        try {
          await compareVae(ctx, 'standalone', vae.weights, cfg);
          await comparePipelineDecode(ctx, vae.weights, cfg);
        } finally {
          vae.close();
        }
      } finally {
        base.close();
      }
    }
  },
};

async function compareVae(ctx: VerifyContext, label: string, w: WeightSet, cfg: VaeConfig): Promise<void> {
  if (existsSync(join(ctx.dir, 'z.npy'))) {
    const z = npyF32(join(ctx.dir, 'z.npy'));
    const [B, , h, wd] = z.shape;
    const graph = buildVaeDecoderGraph(w, cfg, { batch: B, latentHeight: h, latentWidth: wd, ...graphOptionsFor(ctx.target) });
    const out = await runGraphOnce(graph, ctx.workDir, { latents: { type: 'float32', dims: z.shape, data: z.data } }, ctx.target);
    ctx.report(compareArrays(ctx.name, `${label} decode`, f32(out.image), npyF32(join(ctx.dir, 'decoded.npy')).data));
  }
  if (existsSync(join(ctx.dir, 'image.npy'))) {
    const img = npyF32(join(ctx.dir, 'image.npy'));
    const [B, , H, W] = img.shape;
    const graph = buildVaeEncoderGraph(w, cfg, { batch: B, height: H, width: W, ...graphOptionsFor(ctx.target) });
    const out = await runGraphOnce(graph, ctx.workDir, { image: { type: 'float32', dims: img.shape, data: img.data } }, ctx.target);
    ctx.report(compareArrays(ctx.name, `${label} encode_moments`, f32(out.moments), npyF32(join(ctx.dir, 'encoder_moments.npy')).data));
  }
}

/**
 * `pipeline_decode`: final pipeline latents (B, C, F, h, w), scaled, decoded frame by frame as the text-to-video
 * pipeline decodes them (÷ scaling factor, one [1, C, h, w] decoder call per frame, clamp(x/2 + 0.5, 0, 1)).
 */
async function comparePipelineDecode(ctx: VerifyContext, w: WeightSet, cfg: VaeConfig): Promise<void> {
  const pd = ctx.files.pipeline_decode as { input?: unknown; outputs?: Record<string, unknown> } | undefined;
  if (!pd || typeof pd.input !== 'string') return;
  const lat = npyF32(join(ctx.dir, pd.input));
  const [B, C, F, h, wd] = lat.shape;
  // The studio's CPU decoder: the target's conv plan (the session below runs on the CPU).
  const graph = buildVaeDecoderGraph(w, cfg, { batch: 1, latentHeight: h, latentWidth: wd, conv: graphOptionsFor(ctx.target).conv });
  const { modelPath } = emitModel(graph, { dir: join(ctx.workDir, 'pipeline_decode'), modelFile: 'vae_decoder.onnx' });
  const session = await createSession(modelPath, { providers: ['cpu'] });
  try {
    const s = 2 ** (cfg.block_out_channels.length - 1);
    const H = h * s;
    const W = wd * s;
    const raw = new Float32Array(B * 3 * F * H * W);
    const frames = new Float32Array(B * F * H * W * 3);
    const one = new Float32Array(C * h * wd);
    for (let b = 0; b < B; b++) {
      for (let f = 0; f < F; f++) {
        for (let c = 0; c < C; c++) for (let p = 0; p < h * wd; p++) one[c * h * wd + p] = lat.data[((b * C + c) * F + f) * h * wd + p] / cfg.scaling_factor;
        const out = await session.run({ latents: f32Tensor(one, [1, C, h, wd]) });
        const img = f32(out.image);
        for (let c = 0; c < 3; c++) {
          for (let p = 0; p < H * W; p++) {
            const v = img[c * H * W + p];
            raw[((b * 3 + c) * F + f) * H * W + p] = v;
            frames[(((b * F + f) * H * W + p) * 3) + c] = Math.min(1, Math.max(0, v / 2 + 0.5));
          }
        }
      }
    }
    const outs = pd.outputs ?? {};
    if (typeof outs.video_decoded_raw === 'string') ctx.report(compareArrays(ctx.name, 'pipeline decode video', raw, npyF32(join(ctx.dir, outs.video_decoded_raw)).data));
    if (typeof outs.frames === 'string') ctx.report(compareArrays(ctx.name, 'pipeline decode frames', frames, npyF32(join(ctx.dir, outs.frames)).data));
  } finally {
    await session.dispose();
  }
}

function readConfig(dir: string): Record<string, unknown> {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new Error('the case has no config (files.json "config" or config.json)');
  return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
}
