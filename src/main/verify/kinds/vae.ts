import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVaeConfig } from '../../compiler/families/configs';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../compiler/families/vae';
import { openCanonical, singleFileLayouts } from '../canonical';
import { compareArrays } from '../compare';
import { f32, graphOptionsFor, npyF32, runGraphOnce } from '../run-graph';
import type { KindHandler } from '../types';

/**
 * kind `vae`: decoder (z.npy → decoded.npy) and encoder (image.npy → encoder_moments.npy) from every weight
 * layout the case ships. z.npy is the unscaled latent, as the decoder graph expects; files.json's
 * scaling_factor is checked against the config so a case with a different factor cannot pass by accident.
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
    const layouts = singleFileLayouts(ctx.dir);
    for (const layout of layouts) {
      const file = openCanonical(join(ctx.dir, layout.file), 'vae');
      try {
        const w = file.weights;
        if (existsSync(join(ctx.dir, 'z.npy'))) {
          const z = npyF32(join(ctx.dir, 'z.npy'));
          const [B, , h, wd] = z.shape;
          const graph = buildVaeDecoderGraph(w, cfg, { batch: B, latentHeight: h, latentWidth: wd, ...graphOptionsFor(ctx.target) });
          const out = await runGraphOnce(graph, ctx.workDir, { latents: { type: 'float32', dims: z.shape, data: z.data } }, ctx.target);
          ctx.report(compareArrays(ctx.name, `${layout.label} decode`, f32(out.image), npyF32(join(ctx.dir, 'decoded.npy')).data));
        }
        if (existsSync(join(ctx.dir, 'image.npy'))) {
          const img = npyF32(join(ctx.dir, 'image.npy'));
          const [B, , H, W] = img.shape;
          const graph = buildVaeEncoderGraph(w, cfg, { batch: B, height: H, width: W, ...graphOptionsFor(ctx.target) });
          const out = await runGraphOnce(graph, ctx.workDir, { image: { type: 'float32', dims: img.shape, data: img.data } }, ctx.target);
          ctx.report(compareArrays(ctx.name, `${layout.label} encode_moments`, f32(out.moments), npyF32(join(ctx.dir, 'encoder_moments.npy')).data));
        }
      } finally {
        file.close();
      }
    }
  },
};

function readConfig(dir: string): Record<string, unknown> {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new Error('the case has no config (files.json "config" or config.json)');
  return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
}
