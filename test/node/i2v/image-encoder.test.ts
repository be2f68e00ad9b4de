import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMotionConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildImageEncoderGraph, imageEncoderParameterShapes, imageEncoderShape, imageFeatureName } from '../../../src/main/compiler/families/image-encoder';
import { buildUNetGraph, imageFeatureLevels } from '../../../src/main/compiler/families/unet';
import { canonicalize } from '../../../src/main/compiler/names/canonicalize';
import { f32Tensor } from '../../../src/main/engine/runtime/session';
import { compareArrays, formatComparison } from '../../../src/main/verify/compare';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';
import { openGraph, runGraphOnce } from '../../../src/main/verify/run-graph';
import { loadManifest, merge, shapeTable } from '../names/manifest-table';
import { add, conv2d, map, tensor, type T } from '../unet/naive';
import { motionShapes, naiveUNet, randomWeights, rng, unetShapes } from '../unet/naive-unet';

/**
 * AnimateLCM-I2V's image encoder and its injection into the UNet, on what the reference fixture does not cover:
 * the real checkpoint's key set (manifest), three levels of 3 blocks, odd latent sizes (the replicate padding
 * before each 2×2 pool), other motion scales and insertion weights, against a float64 forward written from
 * animatelcm/models/adapter.py here.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'i2v-'));
  dirs.push(d);
  return d;
};

/** Adapter.forward on float64, as written in adapter.py: repeat, conv_in, + scale·pe, body, × insertion weight. */
function naiveAdapter(W: (n: string) => T, latent: T, frames: number, channels: number[], perLevel: number, scale: number, iw: number[]): T[] {
  const [b, c, h, w] = latent.shape;
  const rep = tensor([b * frames, c, h, w]);
  for (let i = 0; i < b; i++) for (let f = 0; f < frames; f++) rep.data.set(latent.data.subarray(i * c * h * w, (i + 1) * c * h * w), (i * frames + f) * c * h * w);
  let x = conv2d(rep, W('conv_in.weight'), W('conv_in.bias'), 1, 1);
  const d = channels[0];
  for (let r = 0; r < b * frames; r++)
    for (let ch = 0; ch < d; ch++) {
      const f = r % frames;
      const k = ch - (ch % 2);
      const arg = f * Math.exp(k * (-Math.log(10000) / d));
      const pe = ch % 2 === 0 ? Math.sin(arg) : Math.cos(arg);
      for (let p = 0; p < h * w; p++) x.data[(r * d + ch) * h * w + p] += scale * pe;
    }
  const out: T[] = [];
  for (let i = 0; i < channels.length; i++) {
    for (let j = 0; j < perLevel; j++) {
      const p = `body.${i * perLevel + j}`;
      if (i > 0 && j === 0) x = pool(x);
      if (channels[i] !== x.shape[1]) x = conv2d(x, W(`${p}.in_conv.weight`), W(`${p}.in_conv.bias`), 1, 0);
      const hh = conv2d(map(conv2d(x, W(`${p}.block1.weight`), W(`${p}.block1.bias`), 1, 1), (v) => Math.max(0, v)), W(`${p}.block2.weight`), W(`${p}.block2.bias`), 1, 0);
      x = add(hh, x);
    }
    out.push(map(x, (v) => v * iw[i]));
  }
  return out;
}

/** F.pad(replicate) right/bottom to even, then AvgPool2d(2, 2). */
function pool(x: T): T {
  const [n, c, h, w] = x.shape;
  const oh = Math.ceil(h / 2);
  const ow = Math.ceil(w / 2);
  const y = tensor([n, c, oh, ow]);
  const at = (r: number, yy: number, xx: number): number => x.data[(r * h + Math.min(yy, h - 1)) * w + Math.min(xx, w - 1)];
  for (let r = 0; r < n * c; r++)
    for (let yy = 0; yy < oh; yy++)
      for (let xx = 0; xx < ow; xx++) y.data[(r * oh + yy) * ow + xx] = (at(r, 2 * yy, 2 * xx) + at(r, 2 * yy, 2 * xx + 1) + at(r, 2 * yy + 1, 2 * xx) + at(r, 2 * yy + 1, 2 * xx + 1)) / 4;
  return y;
}

function randn(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const r = rng(seed);
  return { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()) };
}

describe('AnimateLCM-I2V image encoder', () => {
  it('the real checkpoint: 38 img_encoder keys route to their own component next to the motion modules, nothing unmatched, SD1.5 feature shapes', () => {
    const m = JSON.parse(JSON.stringify(loadManifest('animatelcm_i2v_img_encoder'))) as { animatelcm_i2v_ckpt: Record<string, { shape: number[] }> };
    const motion = loadManifest('motion_adapter_v2_animatelcm').animatediff_original!;
    const c = canonicalize(shapeTable(merge(m.animatelcm_i2v_ckpt, motion)));
    expect(c.unmatched).toEqual([]);
    expect(c.dropped.filter((k) => k.startsWith('img_encoder.'))).toEqual([]);
    const enc = c.components.img_encoder!;
    expect(enc.names().length).toBe(38);
    expect(c.components.motion!.names().length).toBeGreaterThan(500);
    expect(imageEncoderShape(enc, 4)).toEqual({ inChannels: 4, channels: [320, 640, 1280, 1280], blocksPerLevel: 2 });
    const g = buildImageEncoderGraph(enc, { batch: 1, frames: 16, latentHeight: 64, latentWidth: 64, levels: 4 });
    expect(g.outputs.map((o) => o.shape)).toEqual([[16, 320, 64, 64], [16, 640, 32, 32], [16, 1280, 16, 16], [16, 1280, 8, 8]]);
    // The UNet with features takes them exactly at the shapes the encoder makes (SD1.5 UNet manifest, no data read).
    const u = canonicalize(shapeTable(loadManifest('sd15_unet').diffusers)).components.unet!;
    const ug = buildUNetGraph(u, parseUNetConfig({ attention_head_dim: 8 }), { batch: 1, latentHeight: 64, latentWidth: 64, imageFeatures: true, motion: { w: c.components.motion!, cfg: parseMotionConfig({}), frames: 16, groupnorm: 'per_frame' } });
    expect(ug.inputs.filter((i) => i.name.startsWith('img_feature_')).map((i) => i.shape)).toEqual(g.outputs.map((o) => o.shape));
  });

  it('refuses an encoder whose blocks do not split into the UNet levels', () => {
    const { weights } = randomWeights(imageEncoderParameterShapes(4, [4, 8, 8], 2), 3);
    expect(() => imageEncoderShape(weights, 4)).toThrow(/6 blocks.*4 down blocks/);
  });

  it('3 levels × 3 blocks, odd 7×5 latent, batch 2, 3 frames, motion scale 1.3, insertion weights: graph = float64 forward; scale 0 ⇒ frames equal', async () => {
    const channels = [4, 8, 12];
    const { weights, lookup } = randomWeights(imageEncoderParameterShapes(4, channels, 3), 41);
    const latent = randn([2, 4, 7, 5], 42);
    const iw = [0.5, 2, -1];
    const run = (scale: number) =>
      runGraphOnce(buildImageEncoderGraph(weights, { batch: 2, frames: 3, latentHeight: 7, latentWidth: 5, levels: 3 }), scratch(), {
        img_latent: f32Tensor(latent.data, latent.shape),
        motion_scale: f32Tensor(Float32Array.of(scale), [1]),
        insertion_weights: f32Tensor(Float32Array.from(iw), [3]),
      });
    const out = await run(1.3);
    const ref = naiveAdapter(lookup, tensor(latent.shape, latent.data), 3, channels, 3, 1.3, iw);
    ref.forEach((r, i) => {
      const o = out[imageFeatureName(i)];
      expect(o.dims).toEqual(r.shape);
      const cmp = compareArrays('i2v-naive', `level ${i}`, o.data as Float32Array, r.data);
      expect(cmp.pass, formatComparison(cmp)).toBe(true);
      expect(Math.max(...Array.from(r.data, Math.abs))).toBeGreaterThan(0.1);
    });
    expect(ref.map((r) => r.shape.slice(2))).toEqual([[7, 5], [4, 3], [2, 2]]);
    // With motion_scale 0 the frames of one image are identical (the PE is the only frame-dependent term).
    const still = (await run(0))[imageFeatureName(2)].data as Float32Array;
    const per = still.length / 6;
    expect(Array.from(still.subarray(per, 2 * per))).toEqual(Array.from(still.subarray(0, per)));
  });

  it('UNet + motion with injected features (3 blocks, plain block first, layers_per_block 2, odd 6×5 latent, 3 frames) = float64 forward; layers_per_block 1 takes none', async () => {
    // A plain (attention-free) block first: the feature goes in after its second resnet.
    const cfg = parseUNetConfig({
      block_out_channels: [8, 16, 24],
      layers_per_block: 2,
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
      attention_head_dim: [2, 4, 4],
      norm_num_groups: 4,
      cross_attention_dim: 20,
    });
    const mcfg = parseMotionConfig({ block_out_channels: [8, 16, 24], motion_layers_per_block: 2, motion_num_attention_heads: 2, motion_norm_num_groups: 4, motion_max_seq_length: 8 });
    const u = randomWeights(unetShapes(cfg), 51);
    const mw = randomWeights(motionShapes(mcfg), 52);
    const frames = 3;
    const sample = randn([frames, 4, 6, 5], 53);
    const text = randn([frames, 77, cfg.cross_attention_dim], 54);
    const levels = imageFeatureLevels(cfg);
    const sizes = [[6, 5], [3, 3], [2, 2]];
    const feats = levels.map((i) => randn([frames, cfg.block_out_channels[i], sizes[i][0], sizes[i][1]], 60 + i));
    const graph = buildUNetGraph(u.weights, cfg, { batch: 1, latentHeight: 6, latentWidth: 5, imageFeatures: true, motion: { w: mw.weights, cfg: mcfg, frames, groupnorm: 'per_frame' } });
    const s = await openGraph(graph, scratch());
    try {
      const out = await s.run({
        sample: f32Tensor(sample.data, sample.shape),
        timestep: f32Tensor(Float32Array.of(500), [1]),
        encoder_hidden_states: f32Tensor(text.data, text.shape),
        ...Object.fromEntries(feats.map((f, i) => [imageFeatureName(i), f32Tensor(f.data, f.shape)])),
      });
      const motion = { W: mw.lookup, cfg: mcfg, frames, groupnorm: 'per_frame' as const };
      const ref = naiveUNet(u.lookup, cfg, tensor(sample.shape, sample.data), 500, tensor(text.shape, text.data), { ...motion, imageFeatures: feats.map((f) => tensor(f.shape, f.data)) });
      const cmp = compareArrays('i2v-unet-naive', 'noise_pred', out.noise_pred.data as Float32Array, ref.data);
      expect(cmp.pass, formatComparison(cmp)).toBe(true);
      // Not vacuous: the features change the output.
      const plain = naiveUNet(u.lookup, cfg, tensor(sample.shape, sample.data), 500, tensor(text.shape, text.data), motion);
      expect(compareArrays('x', 'y', plain.data, ref.data).pass).toBe(false);
    } finally {
      await s.dispose();
    }
    expect(imageFeatureLevels({ ...cfg, layers_per_block: 1 })).toEqual([]);
  });

  it('verify passes the animatelcm_i2v reference case (kind i2v_adapter), both file formats', async () => {
    const r = await runVerify(join(__dirname, '../../fixtures/reference/animatelcm_i2v'), { log: () => undefined });
    expect(r.failures).toEqual([]);
    expect(verifyPassed(r)).toBe(true);
    const whats = r.comparisons.map((c) => c.what);
    for (const f of ['ckpt', 'safetensors']) {
      expect(whats).toContain(`${f} ms0.8 feature_l3`);
      expect(whats).toContain(`${f} ms0.3 noise_pred_t334`);
      expect(whats).toContain(`${f} no image noise_pred_t999`);
      expect(whats).toContain(`${f} ms0.8 insertion_weights noise_pred_t999`);
    }
  }, 120_000);
});
