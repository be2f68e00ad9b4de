import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { UNetConfig } from '../../src/main/compiler/families/configs';
import { buildControlNetGraph, controlResidualShapes } from '../../src/main/compiler/families/controlnet';
import { buildUNetGraph } from '../../src/main/compiler/families/unet';
import { emitModel } from '../../src/main/compiler/graph/emit';
import { MemoryWeights, numel, type WeightSet } from '../../src/main/compiler/io/tensor';
import { createSession, f32Tensor, type HostTensor } from '../../src/main/engine/runtime/session';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { noiseArray } from '../model-set';
import { Recorder, runsOr, secs, type Suite } from '../suite';

/**
 * `controlnet`: the cost of one ControlNet unit per denoising step relative to the UNet + motion call it steers,
 * both compiled by the studio (the UNet graph with residual inputs, as a controlled generation runs it) at the
 * same rows (CFG halves × frames). Default: the starter model's size (real architecture, test-size channels), a
 * ControlNet with that encoder and the real hint block. The full-size figure (SD1.5 ControlNet against the SD1.5
 * UNet + 21 motion modules, where ≈ 40–50 % is expected) is not measured by this suite yet.
 */

function controlNetFor(unet: WeightSet, cfg: UNetConfig): WeightSet {
  const w = new MemoryWeights();
  let seed = 1;
  const rand = (shape: number[]): Float32Array => noiseArray(numel(shape), seed++).map((v) => v * 0.05);
  for (const n of unet.names()) if (/^(conv_in|time_embedding|down_blocks|mid_block)\./.test(n)) w.set(n, unet.get(n)!.shape, () => unet.get(n)!.readF32());
  const hint = [16, 32, 96, 256];
  w.set('controlnet_cond_embedding.conv_in.weight', [hint[0], 3, 3, 3], rand([hint[0], 3, 3, 3])).set('controlnet_cond_embedding.conv_in.bias', [hint[0]], rand([hint[0]]));
  for (let i = 0; i < hint.length - 1; i++) {
    const [a, b] = [hint[i], hint[i + 1]];
    w.set(`controlnet_cond_embedding.blocks.${2 * i}.weight`, [a, a, 3, 3], rand([a, a, 3, 3])).set(`controlnet_cond_embedding.blocks.${2 * i}.bias`, [a], rand([a]));
    w.set(`controlnet_cond_embedding.blocks.${2 * i + 1}.weight`, [b, a, 3, 3], rand([b, a, 3, 3])).set(`controlnet_cond_embedding.blocks.${2 * i + 1}.bias`, [b], rand([b]));
  }
  const c0 = cfg.block_out_channels[0];
  w.set('controlnet_cond_embedding.conv_out.weight', [c0, 256, 3, 3], rand([c0, 256, 3, 3])).set('controlnet_cond_embedding.conv_out.bias', [c0], rand([c0]));
  controlResidualShapes(cfg, 1, 8, 8).down.forEach((s, i) => w.set(`controlnet_down_blocks.${i}.weight`, [s[1], s[1], 1, 1], rand([s[1], s[1], 1, 1])).set(`controlnet_down_blocks.${i}.bias`, [s[1]], rand([s[1]])));
  const cm = cfg.block_out_channels[cfg.block_out_channels.length - 1];
  w.set('controlnet_mid_block.weight', [cm, cm, 1, 1], rand([cm, cm, 1, 1])).set('controlnet_mid_block.bias', [cm], rand([cm]));
  return w;
}

export const controlnetSuite: Suite = async (ctx) => {
  const r = new Recorder('controlnet', ctx.log);
  const runs = runsOr(ctx, 3);
  const s = starterModel();
  const cfg = s.configs.unet;
  const [batch, frames, h, w, tokens] = [2, 8, 32, 32, 77];
  const rows = batch * frames;
  const dir = mkdtempSync(join(ctx.scratch, 'controlnet-'));
  const unetGraph = buildUNetGraph(s.unet, cfg, { batch, latentHeight: h, latentWidth: w, contextLength: tokens, motion: { w: s.motion, cfg: s.configs.motion, frames, groupnorm: 'per_frame' }, controlResiduals: true, name: 'unet_ctl' });
  const cnGraph = buildControlNetGraph(controlNetFor(s.unet, cfg), cfg, { batch: rows, latentHeight: h, latentWidth: w, contextLength: tokens, name: 'controlnet' });
  const unet = await createSession(emitModel(unetGraph, { dir: join(dir, 'u'), modelFile: 'unet.onnx' }).modelPath, { providers: ['cpu'] });
  const cn = await createSession(emitModel(cnGraph, { dir: join(dir, 'c'), modelFile: 'cn.onnx' }).modelPath, { providers: ['cpu'] });
  try {
    const common: Record<string, HostTensor> = {
      sample: f32Tensor(noiseArray(rows * 4 * h * w, 1), [rows, 4, h, w]),
      timestep: f32Tensor(Float32Array.of(500), [1]),
      encoder_hidden_states: f32Tensor(noiseArray(rows * tokens * cfg.cross_attention_dim, 2), [rows, tokens, cfg.cross_attention_dim]),
    };
    const cnFeeds = { ...common, controlnet_cond: f32Tensor(noiseArray(rows * 3 * h * 8 * w * 8, 3).map((v) => Math.abs(v) % 1), [rows, 3, h * 8, w * 8]), conditioning_scale: f32Tensor(Float32Array.of(1), [1]) };
    const residuals = await cn.run(cnFeeds); // warm-up, and the residuals the UNet gets
    await unet.run({ ...common, ...residuals });
    const tu: number[] = [];
    const tc: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await cn.run(cnFeeds);
      tc.push(performance.now() - t);
      t = performance.now();
      await unet.run({ ...common, ...residuals });
      tu.push(performance.now() - t);
    }
    const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    r.fig('UNet + motion call with residual inputs', 's', tu.map(secs), `starter model, ${batch} × ${frames} frames × ${h}×${w} latent`);
    r.fig('ControlNet call (same rows, control image 8× the latent)', 's', tc.map(secs));
    const ratio = (100 * med(tc)) / med(tu);
    r.fig('ControlNet ÷ UNet per step', '%', ratio, 'medians, measured back to back');
    r.target('one ControlNet unit ≈ 40–50 % of a UNet call (full size)', 'full-size SD1.5 ControlNet vs UNet + motion, CPU', 50, '<=', '%', undefined, 'not measured: this suite runs the starter size only');
  } finally {
    await cn.dispose();
    await unet.dispose();
  }
  return r.result();
};
