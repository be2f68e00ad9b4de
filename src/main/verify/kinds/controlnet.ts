import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { parseUNetConfig } from '../../compiler/families/configs';
import { buildControlNetGraph } from '../../compiler/families/controlnet';
import { buildUNetGraph } from '../../compiler/families/unet';
import { readNpyF32 } from '../../compiler/io/npy';
import { openSafetensors } from '../../compiler/io/safetensors';
import { canonicalizeControlNet } from '../../compiler/names/controlnet-names';
import { f32Tensor, type HostTensor } from '../../engine/runtime/session';
import { compareArrays } from '../compare';
import { graphOptionsFor, runGraphOnce } from '../run-graph';
import type { KindHandler } from '../types';
import { loadDiffusersUNet, perLayout, readJson } from './unet2d';

/**
 * `controlnet` cases: the ControlNet built from each file layout it ships (diffusers names, original v1.1
 * single file), run once; its scaled residuals compared with diffusers'; then the case's UNet, built with
 * residual inputs, fed those residuals (controlled output) and zeros (uncontrolled output).
 */

interface ControlNetCaseFiles {
  conditioning_scale: number;
  inputs: { timestep: number; sample: string; encoder_hidden_states: string; controlnet_cond: string };
  outputs: { down_block_res_samples: Array<{ file: string }>; mid_block_res_sample: string; noise_pred_controlled: string; noise_pred_uncontrolled: string };
  weights: { controlnet_diffusers?: string; controlnet_ldm?: string; controlnet_config: string; unet: string; unet_config: string };
}

export const controlnetHandler: KindHandler = {
  kind: 'controlnet',
  async run(ctx) {
    const f = ctx.files as unknown as ControlNetCaseFiles;
    if (typeof f.conditioning_scale !== 'number' || !f.inputs || !f.outputs || !f.weights) {
      throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json lacks conditioning_scale, inputs, outputs or weights.`);
    }
    const at = (p: string): string => join(ctx.dir, p);
    const cfg = parseUNetConfig(readJson(at(f.weights.controlnet_config)));
    const unetCfg = parseUNetConfig(readJson(at(f.weights.unet_config)));
    const sample = readNpyF32(at(f.inputs.sample));
    const context = readNpyF32(at(f.inputs.encoder_hidden_states));
    const cond = readNpyF32(at(f.inputs.controlnet_cond));
    const [n, , hh, ww] = sample.shape;
    const feeds: Record<string, HostTensor> = {
      sample: f32Tensor(sample.data, sample.shape),
      timestep: f32Tensor(Float32Array.of(f.inputs.timestep), [1]),
      encoder_hidden_states: f32Tensor(context.data, context.shape),
    };
    const refDown = f.outputs.down_block_res_samples.map((r) => readNpyF32(at(r.file)).data);
    const refMid = readNpyF32(at(f.outputs.mid_block_res_sample)).data;
    const layouts = (
      [
        ['diffusers', f.weights.controlnet_diffusers],
        ['ldm', f.weights.controlnet_ldm],
      ] as const
    ).filter((l): l is readonly ['diffusers' | 'ldm', string] => typeof l[1] === 'string');
    let residuals: Record<string, HostTensor> | undefined;
    for (const [label, file] of layouts) {
      await perLayout(ctx, label, async () => {
        const table = openSafetensors(at(file));
        try {
          const { weights, layout } = canonicalizeControlNet(table);
          if (layout !== label) throw new Error(`${file} was read as the ${layout} layout, expected ${label}`);
          const graph = buildControlNetGraph(weights, cfg, { batch: n, latentHeight: hh, latentWidth: ww, contextLength: context.shape[1], name: `controlnet_${label}`, ...graphOptionsFor(ctx.target) });
          const out = await runGraphOnce(graph, ctx.workDir, {
            ...feeds,
            controlnet_cond: f32Tensor(cond.data, cond.shape),
            conditioning_scale: f32Tensor(Float32Array.of(f.conditioning_scale), [1]),
          }, ctx.target);
          refDown.forEach((ref, i) => ctx.report(compareArrays(ctx.name, `${label} down_block_res_sample_${i}`, out[`down_residual_${i}`].data as Float32Array, ref)));
          ctx.report(compareArrays(ctx.name, `${label} mid_block_res_sample`, out.mid_residual.data as Float32Array, refMid));
          residuals ??= out;
        } finally {
          table.close();
        }
      });
    }
    if (!residuals) return;
    const got = residuals;
    await perLayout(ctx, 'unet', async () => {
      const { weights, close } = loadDiffusersUNet(at(f.weights.unet));
      try {
        const graph = buildUNetGraph(weights, unetCfg, { batch: n, latentHeight: hh, latentWidth: ww, contextLength: context.shape[1], controlResiduals: true, name: 'unet_controlled', ...graphOptionsFor(ctx.target) });
        const resFeeds = (zero: boolean): Record<string, HostTensor> =>
          Object.fromEntries(
            graph.inputs
              .filter((i) => i.name.startsWith('down_residual_') || i.name === 'mid_residual')
              .map((i) => {
                const r = got[i.name];
                if (!r) throw new Error(`the ControlNet gives no ${i.name} for the UNet's skip features`);
                return [i.name, zero ? f32Tensor(new Float32Array(r.data.length), r.dims) : r];
              }),
          );
        const controlled = await runGraphOnce(graph, ctx.workDir, { ...feeds, ...resFeeds(false) }, ctx.target);
        ctx.report(compareArrays(ctx.name, 'unet noise_pred_controlled', controlled.noise_pred.data as Float32Array, readNpyF32(at(f.outputs.noise_pred_controlled)).data));
        const plain = await runGraphOnce(graph, ctx.workDir, { ...feeds, ...resFeeds(true) }, ctx.target);
        ctx.report(compareArrays(ctx.name, 'unet noise_pred_uncontrolled', plain.noise_pred.data as Float32Array, readNpyF32(at(f.outputs.noise_pred_uncontrolled)).data));
      } finally {
        close();
      }
    });
  },
};
