import type { MotionConfig, UNetConfig } from '../../../src/main/compiler/families/configs';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import {
  add, attentionCore, catChannels, conv2d, fromTokens, geluScalar, groupNorm, groupNormVideo, layerNorm, linear, silu, tensor, toTokens, upsampleNearest,
  type Lookup, type T,
} from './naive';

/**
 * Tests only: the weight list diffusers' `UNet2DConditionModel.__init__` / `MotionAdapter.__init__` create for a
 * config (same channel bookkeeping as diffusers), random weights for it, and a naive float64 forward of
 * `UNet2DConditionModel.forward` / `UNetMotionModel.forward`.
 */

const list = (v: number | number[], n: number): number[] => (typeof v === 'number' ? Array<number>(n).fill(v) : v);

export type Shapes = Map<string, number[]>;

function transformerShapes(s: Shapes, p: string, c: number, cross: number, depth: number, linearProj: boolean): void {
  s.set(`${p}.norm.weight`, [c]).set(`${p}.norm.bias`, [c]);
  s.set(`${p}.proj_in.weight`, linearProj ? [c, c] : [c, c, 1, 1]).set(`${p}.proj_in.bias`, [c]);
  for (let l = 0; l < depth; l++) blockShapes(s, `${p}.transformer_blocks.${l}`, c, cross);
  s.set(`${p}.proj_out.weight`, linearProj ? [c, c] : [c, c, 1, 1]).set(`${p}.proj_out.bias`, [c]);
}

function blockShapes(s: Shapes, p: string, c: number, cross: number): void {
  for (const k of [1, 2, 3]) s.set(`${p}.norm${k}.weight`, [c]).set(`${p}.norm${k}.bias`, [c]);
  for (const [a, kv] of [['attn1', c], ['attn2', cross]] as const) {
    s.set(`${p}.${a}.to_q.weight`, [c, c]).set(`${p}.${a}.to_k.weight`, [c, kv]).set(`${p}.${a}.to_v.weight`, [c, kv]);
    s.set(`${p}.${a}.to_out.0.weight`, [c, c]).set(`${p}.${a}.to_out.0.bias`, [c]);
  }
  s.set(`${p}.ff.net.0.proj.weight`, [8 * c, c]).set(`${p}.ff.net.0.proj.bias`, [8 * c]);
  s.set(`${p}.ff.net.2.weight`, [c, 4 * c]).set(`${p}.ff.net.2.bias`, [c]);
}

function resnetShapes(s: Shapes, p: string, cin: number, cout: number, temb: number): void {
  s.set(`${p}.norm1.weight`, [cin]).set(`${p}.norm1.bias`, [cin]);
  s.set(`${p}.conv1.weight`, [cout, cin, 3, 3]).set(`${p}.conv1.bias`, [cout]);
  s.set(`${p}.time_emb_proj.weight`, [cout, temb]).set(`${p}.time_emb_proj.bias`, [cout]);
  s.set(`${p}.norm2.weight`, [cout]).set(`${p}.norm2.bias`, [cout]);
  s.set(`${p}.conv2.weight`, [cout, cout, 3, 3]).set(`${p}.conv2.bias`, [cout]);
  if (cin !== cout) s.set(`${p}.conv_shortcut.weight`, [cout, cin, 1, 1]).set(`${p}.conv_shortcut.bias`, [cout]);
}

export function unetShapes(cfg: UNetConfig): Shapes {
  const s: Shapes = new Map();
  const boc = cfg.block_out_channels;
  const n = boc.length;
  const temb = boc[0] * 4;
  const tl = list(cfg.transformer_layers_per_block, n);
  s.set('conv_in.weight', [boc[0], cfg.in_channels, 3, 3]).set('conv_in.bias', [boc[0]]);
  s.set('time_embedding.linear_1.weight', [temb, boc[0]]).set('time_embedding.linear_1.bias', [temb]);
  s.set('time_embedding.linear_2.weight', [temb, temb]).set('time_embedding.linear_2.bias', [temb]);
  let out = boc[0];
  for (let i = 0; i < n; i++) {
    const inp = out;
    out = boc[i];
    for (let j = 0; j < cfg.layers_per_block; j++) {
      resnetShapes(s, `down_blocks.${i}.resnets.${j}`, j === 0 ? inp : out, out, temb);
      if (cfg.down_block_types[i].startsWith('CrossAttn')) transformerShapes(s, `down_blocks.${i}.attentions.${j}`, out, cfg.cross_attention_dim, tl[i], cfg.use_linear_projection);
    }
    if (i < n - 1) s.set(`down_blocks.${i}.downsamplers.0.conv.weight`, [out, out, 3, 3]).set(`down_blocks.${i}.downsamplers.0.conv.bias`, [out]);
  }
  const last = boc[n - 1];
  resnetShapes(s, 'mid_block.resnets.0', last, last, temb);
  transformerShapes(s, 'mid_block.attentions.0', last, cfg.cross_attention_dim, tl[n - 1], cfg.use_linear_projection);
  resnetShapes(s, 'mid_block.resnets.1', last, last, temb);
  const rev = [...boc].reverse();
  const rtl = [...tl].reverse();
  out = rev[0];
  for (let i = 0; i < n; i++) {
    const prev = out;
    out = rev[i];
    const inp = rev[Math.min(i + 1, n - 1)];
    for (let j = 0; j <= cfg.layers_per_block; j++) {
      const skip = j === cfg.layers_per_block ? inp : out;
      const rin = j === 0 ? prev : out;
      resnetShapes(s, `up_blocks.${i}.resnets.${j}`, rin + skip, out, temb);
      if (cfg.up_block_types[i].startsWith('CrossAttn')) transformerShapes(s, `up_blocks.${i}.attentions.${j}`, out, cfg.cross_attention_dim, rtl[i], cfg.use_linear_projection);
    }
    if (i < n - 1) s.set(`up_blocks.${i}.upsamplers.0.conv.weight`, [out, out, 3, 3]).set(`up_blocks.${i}.upsamplers.0.conv.bias`, [out]);
  }
  s.set('conv_norm_out.weight', [boc[0]]).set('conv_norm_out.bias', [boc[0]]);
  s.set('conv_out.weight', [cfg.out_channels, boc[0], 3, 3]).set('conv_out.bias', [cfg.out_channels]);
  return s;
}

function motionModuleShapes(s: Shapes, p: string, c: number): void {
  s.set(`${p}.norm.weight`, [c]).set(`${p}.norm.bias`, [c]);
  s.set(`${p}.proj_in.weight`, [c, c]).set(`${p}.proj_in.bias`, [c]);
  blockShapes(s, `${p}.transformer_blocks.0`, c, c);
  s.set(`${p}.proj_out.weight`, [c, c]).set(`${p}.proj_out.bias`, [c]);
}

export function motionShapes(m: MotionConfig): Shapes {
  const s: Shapes = new Map();
  const boc = m.block_out_channels;
  boc.forEach((c, i) => {
    for (let j = 0; j < m.motion_layers_per_block; j++) motionModuleShapes(s, `down_blocks.${i}.motion_modules.${j}`, c);
  });
  if (m.use_motion_mid_block) motionModuleShapes(s, 'mid_block.motion_modules.0', boc[boc.length - 1]);
  [...boc].reverse().forEach((c, i) => {
    for (let j = 0; j <= m.motion_layers_per_block; j++) motionModuleShapes(s, `up_blocks.${i}.motion_modules.${j}`, c);
  });
  return s;
}

/** Deterministic normal numbers (mulberry32 + Box–Muller). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/** Random weights of roughly unit-preserving scale: matrices N(0, 1/fan_in), norm scales 1 ± 0.2, biases ±0.1. */
export function randomWeights(shapes: Shapes, seed: number): { weights: MemoryWeights; lookup: Lookup } {
  const r = rng(seed);
  const weights = new MemoryWeights();
  const f64 = new Map<string, T>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNormScale = /norm\d?\.weight$|norm_out\.weight$|\.norm\.weight$/.test(name);
    const fanIn = shape.length > 1 ? n / shape[0] : 1;
    for (let i = 0; i < n; i++) data[i] = shape.length === 1 ? (isNormScale ? 1 + 0.2 * r() : 0.1 * r()) : r() / Math.sqrt(fanIn);
    weights.set(name, shape, data);
    f64.set(name, tensor(shape, data));
  }
  const lookup: Lookup = (name) => {
    const t = f64.get(name);
    if (!t) throw new Error(`naive: no weight ${name}`);
    return t;
  };
  return { weights, lookup };
}

export interface NaiveMotion {
  W: Lookup;
  cfg: MotionConfig;
  frames: number;
  groupnorm: 'per_frame' | 'across_frames';
  /** FreeNoise context windows, written out by hand in the test: window starts (each `length` frames) and weights. */
  windows?: { length: number; starts: number[]; weights: number[] };
  /** AnimateLCM-I2V: image features per down block, added after the block's second layer, before its motion module. */
  imageFeatures?: T[];
}

interface Ctx {
  W: Lookup;
  cfg: UNetConfig;
  tembAct: T;
  text: T;
  motion?: NaiveMotion;
}

const has = (W: Lookup, name: string): boolean => {
  try {
    W(name);
    return true;
  } catch {
    return false;
  }
};

function resnet(c: Ctx, p: string, x: T): T {
  const { W, cfg } = c;
  let h = conv2d(silu(groupNorm(x, cfg.norm_num_groups, cfg.norm_eps, W(`${p}.norm1.weight`), W(`${p}.norm1.bias`))), W(`${p}.conv1.weight`), W(`${p}.conv1.bias`), 1, 1);
  const t = linear(c.tembAct, W(`${p}.time_emb_proj.weight`), W(`${p}.time_emb_proj.bias`)); // [N, C]
  const [, ch, hh, ww] = h.shape;
  h = { shape: h.shape, data: h.data.map((v, i) => v + t.data[Math.floor(i / (ch * hh * ww)) * ch + (Math.floor(i / (hh * ww)) % ch)]) };
  h = conv2d(silu(groupNorm(h, cfg.norm_num_groups, cfg.norm_eps, W(`${p}.norm2.weight`), W(`${p}.norm2.bias`))), W(`${p}.conv2.weight`), W(`${p}.conv2.bias`), 1, 1);
  const sc = has(W, `${p}.conv_shortcut.weight`) ? conv2d(x, W(`${p}.conv_shortcut.weight`), W(`${p}.conv_shortcut.bias`), 1, 0) : x;
  return add(sc, h);
}

function attn(W: Lookup, p: string, x: T, kv: T, heads: number): T {
  const q = linear(x, W(`${p}.to_q.weight`), undefined);
  const k = linear(kv, W(`${p}.to_k.weight`), undefined);
  const v = linear(kv, W(`${p}.to_v.weight`), undefined);
  return linear(attentionCore(q, k, v, heads), W(`${p}.to_out.0.weight`), W(`${p}.to_out.0.bias`));
}

function ff(W: Lookup, p: string, x: T): T {
  const h = linear(x, W(`${p}.net.0.proj.weight`), W(`${p}.net.0.proj.bias`));
  const d = h.shape[h.shape.length - 1] / 2;
  const rows = h.data.length / (2 * d);
  const g = tensor([...h.shape.slice(0, -1), d]);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) g.data[r * d + j] = h.data[r * 2 * d + j] * geluScalar(h.data[r * 2 * d + d + j]);
  return linear(g, W(`${p}.net.2.weight`), W(`${p}.net.2.bias`));
}

function transformer2d(c: Ctx, p: string, x: T, heads: number, depth: number): T {
  const { W, cfg } = c;
  const [, , hh, ww] = x.shape;
  const nrm = groupNorm(x, cfg.norm_num_groups, 1e-6, W(`${p}.norm.weight`), W(`${p}.norm.bias`));
  let h = cfg.use_linear_projection
    ? linear(toTokens(nrm), W(`${p}.proj_in.weight`), W(`${p}.proj_in.bias`))
    : toTokens(conv2d(nrm, W(`${p}.proj_in.weight`), W(`${p}.proj_in.bias`), 1, 0));
  for (let l = 0; l < depth; l++) {
    const b = `${p}.transformer_blocks.${l}`;
    let n = layerNorm(h, W(`${b}.norm1.weight`), W(`${b}.norm1.bias`), 1e-5);
    h = add(attn(W, `${b}.attn1`, n, n, heads), h);
    n = layerNorm(h, W(`${b}.norm2.weight`), W(`${b}.norm2.bias`), 1e-5);
    h = add(attn(W, `${b}.attn2`, n, c.text, heads), h);
    n = layerNorm(h, W(`${b}.norm3.weight`), W(`${b}.norm3.bias`), 1e-5);
    h = add(ff(W, `${b}.ff`, n), h);
  }
  const out = cfg.use_linear_projection
    ? fromTokens(linear(h, W(`${p}.proj_out.weight`), W(`${p}.proj_out.bias`)), hh, ww)
    : conv2d(fromTokens(h, hh, ww), W(`${p}.proj_out.weight`), W(`${p}.proj_out.bias`), 1, 0);
  return add(out, x);
}

/** Sinusoidal table, float64, straight from the formula. */
function pe(frames: number, d: number): T {
  const t = tensor([frames, d]);
  for (let p = 0; p < frames; p++)
    for (let i = 0; i < d; i += 2) {
      const a = p * Math.exp((i * -Math.log(10000)) / d);
      t.data[p * d + i] = Math.sin(a);
      if (i + 1 < d) t.data[p * d + i + 1] = Math.cos(a);
    }
  return t;
}

function motionModule(m: NaiveMotion, p: string, x: T, heads: number): T {
  const W = m.W;
  const [n, c, hh, ww] = x.shape;
  const f = m.frames;
  const b = n / f;
  const nrm =
    m.groupnorm === 'per_frame'
      ? groupNorm(x, m.cfg.motion_norm_num_groups, 1e-6, W(`${p}.norm.weight`), W(`${p}.norm.bias`))
      : groupNormVideo(x, f, m.cfg.motion_norm_num_groups, 1e-6, W(`${p}.norm.weight`), W(`${p}.norm.bias`));
  // sequences over frames, one per (video, pixel)
  const seq = tensor([b * hh * ww, f, c]);
  for (let v = 0; v < b; v++) for (let fi = 0; fi < f; fi++) for (let ch = 0; ch < c; ch++) for (let px = 0; px < hh * ww; px++) seq.data[((v * hh * ww + px) * f + fi) * c + ch] = nrm.data[((v * f + fi) * c + ch) * hh * ww + px];
  let h = linear(seq, W(`${p}.proj_in.weight`), W(`${p}.proj_in.bias`));
  const table = pe(f, h.shape[2]);
  const withPe = (t: T): T => ({ shape: t.shape, data: t.data.map((val, i) => val + table.data[i % (f * t.shape[2])]) });
  const blk = `${p}.transformer_blocks.0`;
  if (m.windows) {
    h = windowedAttention(W, blk, h, heads, m.windows);
  } else {
    for (const k of [1, 2]) {
      const q = withPe(layerNorm(h, W(`${blk}.norm${k}.weight`), W(`${blk}.norm${k}.bias`), 1e-5));
      h = add(attn(W, `${blk}.attn${k}`, q, q, heads), h);
    }
  }
  h = add(ff(W, `${blk}.ff`, layerNorm(h, W(`${blk}.norm3.weight`), W(`${blk}.norm3.bias`), 1e-5)), h);
  h = linear(h, W(`${p}.proj_out.weight`), W(`${p}.proj_out.bias`));
  const y = tensor(x.shape);
  for (let v = 0; v < b; v++) for (let fi = 0; fi < f; fi++) for (let ch = 0; ch < c; ch++) for (let px = 0; px < hh * ww; px++) y.data[((v * f + fi) * c + ch) * hh * ww + px] = h.data[((v * hh * ww + px) * f + fi) * c + ch];
  return add(y, x);
}

/**
 * FreeNoise's windowed attentions as the paper describes them, one window at a time: each window's frames go
 * through both attentions (PE rows 0..L−1), and every frame is the weighted mean of its windows' outputs.
 */
function windowedAttention(W: Lookup, blk: string, x: T, heads: number, win: { length: number; starts: number[]; weights: number[] }): T {
  const [r, f, c] = x.shape;
  const L = win.length;
  const table = pe(L, c);
  const acc = tensor([r, f, c]);
  const cnt = new Float64Array(f);
  for (const s of win.starts) {
    let h = tensor([r, L, c]);
    for (let i = 0; i < r; i++) for (let p = 0; p < L; p++) for (let k = 0; k < c; k++) h.data[(i * L + p) * c + k] = x.data[(i * f + s + p) * c + k];
    for (const k of [1, 2]) {
      const n = layerNorm(h, W(`${blk}.norm${k}.weight`), W(`${blk}.norm${k}.bias`), 1e-5);
      const q = { shape: n.shape, data: n.data.map((v, i) => v + table.data[i % (L * c)]) };
      h = add(attn(W, `${blk}.attn${k}`, q, q, heads), h);
    }
    for (let i = 0; i < r; i++) for (let p = 0; p < L; p++) for (let k = 0; k < c; k++) acc.data[(i * f + s + p) * c + k] += h.data[(i * L + p) * c + k] * win.weights[p];
    for (let p = 0; p < L; p++) cnt[s + p] += win.weights[p];
  }
  return { shape: acc.shape, data: acc.data.map((v, i) => v / cnt[Math.floor(i / c) % f]) };
}

/** UNet2DConditionModel.forward (or UNetMotionModel.forward with `motion`) on float64; t is one timestep for all rows. */
export function naiveUNet(W: Lookup, cfg: UNetConfig, sample: T, t: number, text: T, motion?: NaiveMotion): T {
  const n = sample.shape[0];
  const boc = cfg.block_out_channels;
  const nb = boc.length;
  const heads = list(cfg.attention_head_dim, nb);
  const depth = list(cfg.transformer_layers_per_block, nb);
  const mheads = (i: number): number => list(motion?.cfg.motion_num_attention_heads ?? 1, nb)[i];
  // Timesteps(flip_sin_to_cos, freq_shift) → TimestepEmbedding
  const half = boc[0] / 2;
  const proj = tensor([n, 2 * half]);
  for (let r = 0; r < n; r++)
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp((-Math.log(10000) * i) / (half - cfg.freq_shift));
      proj.data[r * 2 * half + (cfg.flip_sin_to_cos ? half + i : i)] = Math.sin(a);
      proj.data[r * 2 * half + (cfg.flip_sin_to_cos ? i : half + i)] = Math.cos(a);
    }
  const temb = linear(silu(linear(proj, W('time_embedding.linear_1.weight'), W('time_embedding.linear_1.bias'))), W('time_embedding.linear_2.weight'), W('time_embedding.linear_2.bias'));
  const c: Ctx = { W, cfg, tembAct: silu(temb), text, motion };

  let h = conv2d(sample, W('conv_in.weight'), W('conv_in.bias'), 1, 1);
  const skips: T[] = [h];
  for (let i = 0; i < nb; i++) {
    for (let j = 0; j < cfg.layers_per_block; j++) {
      h = resnet(c, `down_blocks.${i}.resnets.${j}`, h);
      if (cfg.down_block_types[i].startsWith('CrossAttn')) h = transformer2d(c, `down_blocks.${i}.attentions.${j}`, h, heads[i], depth[i]);
      if (motion?.imageFeatures && j === 1) h = add(h, motion.imageFeatures[i]);
      if (motion) h = motionModule(motion, `down_blocks.${i}.motion_modules.${j}`, h, mheads(i));
      skips.push(h);
    }
    if (i < nb - 1) {
      h = conv2d(h, W(`down_blocks.${i}.downsamplers.0.conv.weight`), W(`down_blocks.${i}.downsamplers.0.conv.bias`), 2, cfg.downsample_padding);
      skips.push(h);
    }
  }
  h = resnet(c, 'mid_block.resnets.0', h);
  h = transformer2d(c, 'mid_block.attentions.0', h, heads[nb - 1], depth[nb - 1]);
  if (motion && motion.cfg.use_motion_mid_block) h = motionModule(motion, 'mid_block.motion_modules.0', h, mheads(nb - 1));
  h = resnet(c, 'mid_block.resnets.1', h);
  const rheads = [...heads].reverse();
  const rdepth = [...depth].reverse();
  for (let i = 0; i < nb; i++) {
    for (let j = 0; j <= cfg.layers_per_block; j++) {
      const skip = skips.pop();
      if (!skip) throw new Error('naive: no skip');
      h = resnet(c, `up_blocks.${i}.resnets.${j}`, catChannels(h, skip));
      if (cfg.up_block_types[i].startsWith('CrossAttn')) h = transformer2d(c, `up_blocks.${i}.attentions.${j}`, h, rheads[i], rdepth[i]);
      if (motion) h = motionModule(motion, `up_blocks.${i}.motion_modules.${j}`, h, mheads(nb - 1 - i));
    }
    if (i < nb - 1) {
      const next = skips[skips.length - 1];
      h = conv2d(upsampleNearest(h, next.shape[2], next.shape[3]), W(`up_blocks.${i}.upsamplers.0.conv.weight`), W(`up_blocks.${i}.upsamplers.0.conv.bias`), 1, 1);
    }
  }
  h = silu(groupNorm(h, cfg.norm_num_groups, cfg.norm_eps, W('conv_norm_out.weight'), W('conv_norm_out.bias')));
  return conv2d(h, W('conv_out.weight'), W('conv_out.bias'), 1, 1);
}

