import { StudioError } from '../../../shared/errors';
import type { AttentionPlan } from '../graph/attention-plan';
import { GraphBuilder, type GraphIR } from '../graph/builder';
import { takesWinograd, vaeWinogradLayers, type ConvPlan } from '../graph/conv-plan';
import { conv2d, groupNorm, linear, multiHeadAttention, need, resizeNearest, silu } from '../graph/layers';
import type { TensorView, WeightSet } from '../io/tensor';
import type { VaeConfig } from './configs';

/**
 * diffusers `AutoencoderKL` as two ONNX graphs, for any config (channel counts, layers_per_block, number of
 * blocks, norm groups, mid attention on/off, quant convs on/off):
 *
 *   decoder: latents [B, latent, h, w] → post_quant_conv → Decoder → image [B, out, h·2^(n−1), w·2^(n−1)]
 *   encoder: image → Encoder → quant_conv → moments [B, 2·latent, h, w] = [mean | logvar]
 *
 * The decoder input is the UNSCALED latent: the caller divides the diffusion latent by `scaling_factor`
 * itself (diffusers pipelines call `vae.decode(latents / scaling_factor)`), and multiplies an encoded sample by
 * it. Keeping the scale out of the graph keeps one compiled decoder valid for any scaling factor. The output is
 * not clamped (pipelines map it with clamp(x/2 + 0.5, 0, 1)).
 *
 * Architecture facts: every GroupNorm has eps 1e-6; ResnetBlock2D without a time embedding; the mid block is
 * resnet → (single-head self-attention over the H·W positions, GroupNorm first, residual) → resnet; decoder
 * up_blocks.0 is the deepest (block_out_channels reversed) with layers_per_block + 1 resnets; the encoder
 * downsampler pads (0, 1, 0, 1) and convolves 3×3 with stride 2; the upsampler is nearest ×2 then a 3×3 conv.
 */

export interface VaeGraphOptions {
  batch: number;
  floatType?: 'float32' | 'float16';
  /** The mid-block attention's form (default fused; attention-plan.ts picks it per provider). */
  attention?: AttentionPlan;
  /**
   * The 3×3 convolutions' form (conv-plan.ts picks it per provider): absent ⇒ direct, node for node. Under the
   * winograd plan only the kernels vaeTakesWinograd names take it.
   */
  conv?: ConvPlan;
}

/**
 * Whether the VAE kernel `name` of `shape` takes the Winograd form under the winograd plan: a 3×3 stride-1 layer
 * wider than the top level (conv-plan.ts, vaeWinogradLayers) whose input is smaller than the top level's activation
 * (C_in × its share of the full resolution < C_top). The transform intermediates are 2.25× a layer's input, a few at
 * once, so that bound keeps them under ≈ 2× the decode's largest plain activation: it leaves direct the top level,
 * the decoder's last upsampler conv (as wide as the second level, at full resolution), and in SD1.5 the two convs
 * that read 512 channels at half resolution (up_blocks.1's upsampler, up_blocks.2.resnets.0.conv1), which lifted
 * a 512² decode's peak from 1.62 to 3.56 GiB. By name, shape and config only, so one weights file serves every
 * image size, and the memory estimate (engine/memory/weight-bytes.ts, estimate.ts) counts exactly these kernels.
 */
export function vaeTakesWinograd(cfg: VaeConfig, name: string, shape: readonly number[]): boolean {
  const layer = vaeConvLayers(cfg).get(name.replace(/\.weight$/, ''));
  return layer !== undefined && layer.input * layer.share < cfg.block_out_channels[0] && takesWinograd(shape, 1, vaeWinogradLayers(cfg.block_out_channels[0]));
}

/**
 * The largest input of the decoder's (or encoder's) Winograd layers, in elements per output (input) pixel: C × the
 * share of the full resolution it runs at. Its transform intermediates are what the plan adds to the arena
 * (engine/memory/estimate.ts). 0 when no layer takes the plan.
 */
export function vaeWinogradWidestInput(cfg: VaeConfig, part: 'decoder' | 'encoder'): number {
  let widest = 0;
  for (const [name, l] of vaeConvLayers(cfg)) {
    if (name.startsWith(`${part}.`) && vaeTakesWinograd(cfg, name, [l.output, l.input, 3, 3])) widest = Math.max(widest, l.input * l.share);
  }
  return widest;
}

interface ConvLayer {
  input: number;
  output: number;
  /** The share of the full resolution's pixels the layer runs at (1, ¼, 1/16, …). */
  share: number;
}

/** The VAE's 3×3 stride-1 convolutions inside its blocks, by module path (mirrors the builders below). */
function vaeConvLayers(cfg: VaeConfig): Map<string, ConvLayer> {
  const chans = cfg.block_out_channels;
  const n = chans.length;
  const layers = new Map<string, ConvLayer>();
  const resnets = (prefix: string, count: number, input: number, output: number, share: number): void => {
    for (let j = 0; j < count; j++) {
      layers.set(`${prefix}.resnets.${j}.conv1`, { input: j === 0 ? input : output, output, share });
      layers.set(`${prefix}.resnets.${j}.conv2`, { input: output, output, share });
    }
  };
  const deepest = 4 ** -(n - 1);
  for (const part of ['decoder', 'encoder']) resnets(`${part}.mid_block`, 2, chans[n - 1], chans[n - 1], deepest);
  for (let i = 0; i < n; i++) {
    const share = 4 ** -(n - 1 - i);
    resnets(`decoder.up_blocks.${i}`, cfg.layers_per_block + 1, i === 0 ? chans[n - 1] : chans[n - i], chans[n - 1 - i], share);
    if (i < n - 1) layers.set(`decoder.up_blocks.${i}.upsamplers.0.conv`, { input: chans[n - 1 - i], output: chans[n - 1 - i], share: share * 4 });
    resnets(`encoder.down_blocks.${i}`, cfg.layers_per_block, i === 0 ? chans[0] : chans[i - 1], chans[i], 4 ** -i);
  }
  return layers;
}

const EPS = 1e-6;
type Shape = [number, number, number, number];

export function buildVaeDecoderGraph(w: WeightSet, cfg: VaeConfig, opts: VaeGraphOptions & { latentHeight: number; latentWidth: number }): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const g = new GraphBuilder('vae_decoder', floatType, opts.attention, undefined, undefined, 'float', opts.conv, vaeWinogradLayers(cfg.block_out_channels[0]));
  g.metadata.family = 'vae_decoder';
  g.metadata.config = JSON.stringify(cfg);
  g.metadata.input_scaling = 'unscaled: pass latents / scaling_factor';
  const ctx: Ctx = { g, w, cfg, groups: cfg.norm_num_groups };
  const chans = cfg.block_out_channels;
  const n = chans.length;
  let shape: Shape = [opts.batch, cfg.latent_channels, opts.latentHeight, opts.latentWidth];
  let x = g.input('latents', floatType, [...shape]);
  if (cfg.use_post_quant_conv) x = conv2d(g, w, 'post_quant_conv', x, { pad: 0 });
  x = conv2d(g, w, 'decoder.conv_in', x);
  shape = [shape[0], chans[n - 1], shape[2], shape[3]];
  x = midBlock(ctx, 'decoder.mid_block', x, shape, cfg.mid_block_add_attention);
  const reversed = [...chans].reverse();
  for (let i = 0; i < n; i++) {
    const out = reversed[i];
    for (let j = 0; j < cfg.layers_per_block + 1; j++) {
      x = resnet(ctx, `decoder.up_blocks.${i}.resnets.${j}`, x, shape, out);
      shape = [shape[0], out, shape[2], shape[3]];
    }
    if (i < n - 1) {
      const up: Shape = [shape[0], shape[1], shape[2] * 2, shape[3] * 2];
      x = g.scope(`decoder.up_blocks.${i}.upsamplers.0`, () => resizeNearest(g, x, shape, [up[2], up[3]]));
      x = conv(ctx, `decoder.up_blocks.${i}.upsamplers.0.conv`, x, up);
      shape = up;
    }
  }
  x = groupNorm(g, w, 'decoder.conv_norm_out', x, shape, cfg.norm_num_groups, EPS);
  x = g.scope('decoder.conv_norm_out', () => silu(g, x));
  x = conv2d(g, w, 'decoder.conv_out', x);
  g.output(x, 'image', floatType, [shape[0], cfg.out_channels, shape[2], shape[3]]);
  return g.build();
}

export function buildVaeEncoderGraph(w: WeightSet, cfg: VaeConfig, opts: VaeGraphOptions & { height: number; width: number }): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const g = new GraphBuilder('vae_encoder', floatType, opts.attention, undefined, undefined, 'float', opts.conv, vaeWinogradLayers(cfg.block_out_channels[0]));
  g.metadata.family = 'vae_encoder';
  g.metadata.config = JSON.stringify(cfg);
  g.metadata.output_scaling = 'moments of the unscaled latent: multiply a sample by scaling_factor';
  const ctx: Ctx = { g, w, cfg, groups: cfg.norm_num_groups };
  const chans = cfg.block_out_channels;
  const n = chans.length;
  const factor = 2 ** (n - 1);
  if (opts.height % factor !== 0 || opts.width % factor !== 0) {
    throw new StudioError('INVALID_PARAMS', `The image size ${opts.width}×${opts.height} must be a multiple of ${factor} for this VAE.`);
  }
  let shape: Shape = [opts.batch, cfg.in_channels, opts.height, opts.width];
  let x = g.input('image', floatType, [...shape]);
  x = conv2d(g, w, 'encoder.conv_in', x);
  shape = [shape[0], chans[0], shape[2], shape[3]];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.layers_per_block; j++) {
      x = resnet(ctx, `encoder.down_blocks.${i}.resnets.${j}`, x, shape, chans[i]);
      shape = [shape[0], chans[i], shape[2], shape[3]];
    }
    if (i < n - 1) {
      // diffusers Downsample2D(padding=0): F.pad(x, (0, 1, 0, 1)) then a 3×3 stride-2 conv. ONNX pads are
      // [top, left, bottom, right].
      x = conv2d(g, w, `encoder.down_blocks.${i}.downsamplers.0.conv`, x, { stride: 2, pad: [0, 0, 1, 1] });
      shape = [shape[0], shape[1], shape[2] / 2, shape[3] / 2];
    }
  }
  x = midBlock(ctx, 'encoder.mid_block', x, shape, cfg.mid_block_add_attention);
  x = groupNorm(g, w, 'encoder.conv_norm_out', x, shape, cfg.norm_num_groups, EPS);
  x = g.scope('encoder.conv_norm_out', () => silu(g, x));
  x = conv2d(g, w, 'encoder.conv_out', x);
  if (cfg.use_quant_conv) x = conv2d(g, w, 'quant_conv', x, { pad: 0 });
  g.output(x, 'moments', floatType, [shape[0], 2 * cfg.latent_channels, shape[2], shape[3]]);
  return g.build();
}

interface Ctx {
  g: GraphBuilder;
  w: WeightSet;
  cfg: VaeConfig;
  groups: number;
}

/** A block's 3×3 "same" conv: Winograd under the plan where vaeTakesWinograd says so (it needs the input shape), else Conv. */
function conv(ctx: Ctx, prefix: string, x: string, inShape: Shape): string {
  const take = vaeTakesWinograd(ctx.cfg, `${prefix}.weight`, need(ctx.w, `${prefix}.weight`).shape);
  return conv2d(ctx.g, ctx.w, prefix, x, take ? { inShape } : {});
}

/** ResnetBlock2D without time embedding: GN → SiLU → conv1 → GN → SiLU → conv2, + (1×1 shortcut) x. */
function resnet(ctx: Ctx, prefix: string, x: string, shape: Shape, out: number): string {
  const { g, w } = ctx;
  const conv1 = need(w, `${prefix}.conv1.weight`);
  if (conv1.shape[0] !== out || conv1.shape[1] !== shape[1]) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `VAE ${prefix}.conv1 maps ${conv1.shape[1]}→${conv1.shape[0]} channels, the config needs ${shape[1]}→${out}.`, { prefix });
  }
  let h = groupNorm(g, w, `${prefix}.norm1`, x, shape, ctx.groups, EPS);
  h = g.scope(`${prefix}.norm1`, () => silu(g, h));
  h = conv(ctx, `${prefix}.conv1`, h, shape);
  const outShape: Shape = [shape[0], out, shape[2], shape[3]];
  h = groupNorm(g, w, `${prefix}.norm2`, h, outShape, ctx.groups, EPS);
  h = g.scope(`${prefix}.norm2`, () => silu(g, h));
  h = conv(ctx, `${prefix}.conv2`, h, outShape);
  const skip = w.has(`${prefix}.conv_shortcut.weight`) ? conv2d(g, w, `${prefix}.conv_shortcut`, x, { pad: 0 }) : x;
  return g.scope(prefix, () => g.op('Add', [skip, h], {}, { name: 'residual' }));
}

/** UNetMidBlock2D of the VAE: resnet, optional attention, resnet. */
function midBlock(ctx: Ctx, prefix: string, x: string, shape: Shape, withAttention: boolean): string {
  let h = resnet(ctx, `${prefix}.resnets.0`, x, shape, shape[1]);
  if (withAttention) h = attention(ctx, `${prefix}.attentions.0`, h, shape);
  return resnet(ctx, `${prefix}.resnets.1`, h, shape, shape[1]);
}

/**
 * diffusers Attention as the VAE uses it: GroupNorm, single head of size C over the H·W positions, to_out,
 * residual. q/k/v/out weights are Linear [C, C]; the 1×1-conv form [C, C, 1, 1] of single-file checkpoints is
 * accepted too (same bytes).
 */
function attention(ctx: Ctx, prefix: string, x: string, shape: Shape): string {
  const { g } = ctx;
  const [B, C, H, W] = shape;
  const w = squeezedLinears(ctx.w, prefix);
  const normed = groupNorm(g, w, `${prefix}.group_norm`, x, shape, ctx.groups, EPS);
  const seq = g.scope(prefix, () =>
    g.op('Transpose', [g.op('Reshape', [normed, g.i64([B, C, H * W])], {}, { name: 'flatten' })], { perm: { kind: 'ints', value: [0, 2, 1] } }, { name: 'to_seq' }),
  );
  const q = linear(g, w, `${prefix}.to_q`, seq, { inFeatures: C });
  const k = linear(g, w, `${prefix}.to_k`, seq, { inFeatures: C });
  const v = linear(g, w, `${prefix}.to_v`, seq, { inFeatures: C });
  const o = g.scope(prefix, () => multiHeadAttention(g, q, k, v, 1, { batch: B, queries: H * W, keys: H * W, channels: C }));
  const proj = linear(g, w, `${prefix}.to_out.0`, o, { inFeatures: C });
  return g.scope(prefix, () => {
    const img = g.op('Reshape', [g.op('Transpose', [proj], { perm: { kind: 'ints', value: [0, 2, 1] } }, { name: 'to_img' }), g.i64([B, C, H, W])], {}, { name: 'unflatten' });
    return g.op('Add', [img, x], {}, { name: 'residual' });
  });
}

/** The weight set with `${prefix}.to_{q,k,v,out.0}.weight` seen as 2-D when stored as 1×1 convs. */
function squeezedLinears(w: WeightSet, prefix: string): WeightSet {
  const names = ['to_q', 'to_k', 'to_v', 'to_out.0'].map((n) => `${prefix}.${n}.weight`);
  const get = (name: string): TensorView | undefined => {
    const v = w.get(name);
    if (!v || !names.includes(name) || v.shape.length !== 4) return v;
    const [o, i, kh, kw] = v.shape;
    if (kh !== 1 || kw !== 1) return v;
    return { name: v.name, dtype: v.dtype, shape: [o, i], readF32: () => v.readF32(), readRaw: () => v.readRaw() };
  };
  return { names: () => w.names(), has: (n) => w.has(n), get };
}
