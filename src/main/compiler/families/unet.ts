import { StudioError } from '../../../shared/errors';
import type { WeightSet } from '../io/tensor';
import type { AttentionPlan } from '../graph/attention-plan';
import { allInitializers, attr, GraphBuilder, type GraphIR } from '../graph/builder';
import type { QuantPlan } from '../graph/quant-plan';
import type { ConvPlan } from '../graph/conv-plan';
import type { NormPlan } from '../graph/norm-plan';
import { sinCos, type TrigPlan } from '../graph/trig-plan';
import { attention, conv2d, feedForwardGeglu, gelu, groupNorm, layerNorm, linear, multiHeadAttention, need, resizeNearest, silu } from '../graph/layers';
import { plannedConv1x1, plannedLinear, type LoraSlotPlan } from '../graph/lora-slots';
import { overSamples, type SampleChunkPlan } from '../graph/sample-chunks';
import type { MotionConfig, MotionGroupNorm, UNetConfig } from './configs';
import type { WindowFusionPlan } from './context-windows';
import { imageFeatureName } from './image-encoder';
import { motionModule, motionModuleCount } from './motion';
import { scopedOp } from './scoped-op';

/**
 * diffusers `UNet2DConditionModel` (the SD1.5 family) as an ONNX graph, optionally inflated with AnimateDiff
 * motion modules (`UNetMotionModel`). Everything is driven by the config plus the stored weight shapes, so any
 * block count, channel list, layers_per_block, head count or projection type of that family builds.
 *
 * Graph interface:
 *   sample                 [N, in_channels, h, w]   N = batch·frames, frame f of video b at row b·F + f
 *   timestep               float32 [1]              shared by every row (LCM and CFG never mix timesteps)
 *   encoder_hidden_states  [N, 77·k, cross_dim]     already repeated per frame by the pipeline
 *   → noise_pred           [N, out_channels, h, w]
 *
 * Numerics follow diffusers exactly: resnet GroupNorm eps = norm_eps, Transformer2DModel GroupNorm eps 1e-6,
 * LayerNorm eps 1e-5, legacy `attention_head_dim` = number of heads (head dim = channels / heads).
 */

export interface MotionInflation {
  w: WeightSet;
  cfg: MotionConfig;
  frames: number;
  groupnorm: MotionGroupNorm;
  /** FreeNoise context windows in every motion transformer block (motion.ts); absent = one window of all frames. */
  windows?: WindowFusionPlan;
}

export interface UNetBuildOptions {
  batch: number;
  latentHeight: number;
  latentWidth: number;
  /** Text tokens per row: 77·k (prompt chunks). Default 77. */
  contextLength?: number;
  floatType?: 'float32' | 'float16';
  /** Spatial and temporal attentions' form (default fused; attention-plan.ts picks it per provider). */
  attention?: AttentionPlan;
  /** The timestep embedding's sin/cos (default native; trig-plan.ts picks it per provider). */
  trig?: TrigPlan;
  /** GroupNorm's statistics (default instance; norm-plan.ts picks it per provider). */
  norm?: NormPlan;
  motion?: MotionInflation;
  /**
   * Also expose module outputs as graph outputs named after the module (`conv_in`, `time_proj`,
   * `time_embedding`, `down_blocks.i`, `mid_block`, `up_blocks.i`, `conv_norm_out`, `…motion_modules.j`),
   * the points where the reference fixtures hooked diffusers. For debugging and tests; not for inference.
   */
  taps?: boolean;
  name?: string;
  /**
   * Run-time LoRA slots (compiler/graph/lora-slots.ts): the transformer-block Linear / 1×1 layers `plan.include`
   * selects get inputs `lora_down:<module>` [R, in] and `lora_up:<module>` [out, R], so a LoRA stack is fed per
   * run instead of compiled in. Absent ⇒ the plain graph, node for node.
   */
  loraSlots?: LoraSlotPlan;
  /**
   * ControlNet residual inputs (compiler/families/controlnet.ts): `down_residual_i` (one per skip feature, in
   * the order the up path collects them) and `mid_residual`, added after the whole down pass and to the mid
   * block output, as diffusers' `down_block_additional_residuals` / `mid_block_additional_residual`. The
   * pipeline feeds zeros when no ControlNet is on at a step. Absent ⇒ the plain graph, node for node.
   */
  controlResiduals?: boolean;
  /**
   * AnimateLCM-I2V: inputs `img_feature_<i>` [N, C_i, h_i, w_i] (image-encoder.ts), added in down block i after
   * its SECOND layer's resnet/attention, before that layer's motion module (animatelcm/models/unet_blocks.py,
   * `idx == 2`); the sum also feeds the skip and the downsampler. Mid and up blocks get nothing, and blocks with
   * one layer never reach the second layer. Absent ⇒ the plain graph, node for node.
   */
  imageFeatures?: boolean;
  /**
   * Resnets and spatial transformers as a Scan over groups of samples (graph/sample-chunks.ts): the CPU memory
   * plan. Same output; absent ⇒ the plain graph, node for node.
   */
  sampleChunks?: SampleChunkPlan;
  /**
   * The labelled int8 CPU option (graph/quant-plan.ts): the spatial and motion Linear layers and the convolutions
   * as int8 products; time embeddings, conv_in and conv_out stay exact. Absent ⇒ float, node for node.
   */
  quant?: QuantPlan;
  /** The 3×3 convolutions' form (graph/conv-plan.ts picks it per provider): absent ⇒ direct, node for node. */
  conv?: ConvPlan;
}

/** A value together with its static shape: the decomposed GroupNorm and the reshapes need concrete shapes. */
export interface Val {
  v: string;
  shape: number[];
}

/** Transformer2DModel's GroupNorm (diffusers hard-codes 1e-6 there, unlike the resnets' norm_eps). */
const TRANSFORMER_GN_EPS = 1e-6;
/** LayerNorm eps of BasicTransformerBlock (diffusers default norm_eps 1e-5). */
const LAYER_NORM_EPS = 1e-5;

export function perBlock(v: number | number[], i: number, what: string): number {
  if (typeof v === 'number') return v;
  const x = v[i];
  if (x === undefined) throw new StudioError('MODEL_SHAPE_MISMATCH', `The model config lists no ${what} for block ${i}.`, { what, block: i });
  return x;
}

export function isCrossAttn(type: string): boolean {
  return type.startsWith('CrossAttn');
}

export function checkBlockType(type: string, allowed: string[], where: string): void {
  if (!allowed.includes(type)) {
    throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `This UNet uses a ${type} ${where}; only SD1.5-style blocks (${allowed.join(', ')}) are supported.`, { type });
  }
}

export function buildUNetGraph(w: WeightSet, cfg: UNetConfig, opts: UNetBuildOptions): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const frames = opts.motion?.frames ?? 1;
  const n = opts.batch * frames;
  const ctxLen = opts.contextLength ?? 77;
  const nBlocks = cfg.block_out_channels.length;
  if (!(opts.batch >= 1 && frames >= 1 && opts.latentHeight >= 1 && opts.latentWidth >= 1 && ctxLen >= 1)) {
    throw new StudioError('INVALID_PARAMS', `Invalid UNet shape: batch ${opts.batch}, frames ${frames}, latent ${opts.latentHeight}×${opts.latentWidth}, context ${ctxLen}.`);
  }
  if (cfg.down_block_types.length !== nBlocks || cfg.up_block_types.length !== nBlocks) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `The UNet config has ${nBlocks} channel entries but ${cfg.down_block_types.length} down and ${cfg.up_block_types.length} up blocks.`);
  }
  cfg.down_block_types.forEach((t) => checkBlockType(t, ['CrossAttnDownBlock2D', 'DownBlock2D'], 'down block'));
  cfg.up_block_types.forEach((t) => checkBlockType(t, ['CrossAttnUpBlock2D', 'UpBlock2D'], 'up block'));
  if (cfg.mid_block_type !== null) checkBlockType(cfg.mid_block_type, ['UNetMidBlock2DCrossAttn'], 'mid block');
  const motion = opts.motion;
  if (motion) checkMotionMatches(cfg, motion);

  const g = new GraphBuilder(opts.name ?? (motion ? 'unet_motion' : 'unet'), floatType, opts.attention, opts.trig, opts.norm, opts.quant, opts.conv);
  g.metadata['family'] = motion ? 'unet_motion' : 'unet2d';
  g.metadata['shape'] = JSON.stringify({ batch: opts.batch, frames, latentHeight: opts.latentHeight, latentWidth: opts.latentWidth, contextLength: ctxLen });
  if (motion) g.metadata['motion_groupnorm'] = motion.groupnorm;
  if (motion?.windows) g.metadata['context_windows'] = JSON.stringify({ length: motion.windows.length, starts: motion.windows.starts, weights: Array.from(motion.windows.weights) });

  const inCh = need(w, 'conv_in.weight').shape[1];
  if (inCh !== cfg.in_channels) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `This UNet's first layer takes ${inCh} channels but its config says ${cfg.in_channels}${inCh === 9 ? ' (an inpainting UNet, which AnimateLCM cannot use)' : ''}.`, { inChannels: inCh });
  }
  const sample = g.input('sample', floatType, [n, inCh, opts.latentHeight, opts.latentWidth]);
  const timestep = g.input('timestep', 'float32', [1]);
  const context = g.input('encoder_hidden_states', floatType, [n, ctxLen, cfg.cross_attention_dim]);

  const tap = (name: string, x: Val): void => {
    if (opts.taps) g.output(x.v, name, floatType, x.shape);
  };
  const heads = cfg.attention_head_dim;
  const tlayers = cfg.transformer_layers_per_block as number | number[];
  const eps = cfg.norm_eps;
  const groups = cfg.norm_num_groups;

  // Time embedding: sinusoidal projection in float32 (t·freq reaches ~1000, too coarse for fp16), then the MLP.
  const tproj = timestepProjection(g, w, cfg, timestep);
  if (opts.taps) g.output(tproj.v, 'time_proj', floatType, tproj.shape);
  const temb1 = linear(g, w, 'time_embedding.linear_1', tproj.v, { exact: true });
  const temb = linear(g, w, 'time_embedding.linear_2', g.scope('time_embedding', () => silu(g, temb1)), { exact: true });
  const tembDim = need(w, 'time_embedding.linear_2.weight').shape[0];
  if (opts.taps) g.output(temb, 'time_embedding', floatType, [1, tembDim]);
  // Every resnet projects silu(temb); compute the activation once.
  const tembAct = g.scope('time_embedding', () => silu(g, temb));

  const blocks: BlockCtx = { g, w, tembAct, context, contextDim: cfg.cross_attention_dim, contextRows: n * ctxLen, contextLength: ctxLen, eps, groups, useLinear: cfg.use_linear_projection, motion, tap, slots: opts.loraSlots, chunks: opts.sampleChunks };

  let h: Val = { v: conv2d(g, w, 'conv_in', sample, { exact: true }), shape: [n, need(w, 'conv_in.weight').shape[0], opts.latentHeight, opts.latentWidth] };
  tap('conv_in', h);
  // AnimateLCM-I2V: feature i joins down block i after its second layer, before that layer's motion module.
  const inject = opts.imageFeatures ? (i: number, j: number, x: Val): Val => (j === 1 ? addImageFeature(g, `down_blocks.${i}`, i, x, floatType) : x) : undefined;
  const down = downPass(blocks, cfg, h, inject);
  h = down.h;
  const skips = down.skips;

  if (opts.controlResiduals) addControlResiduals(g, skips, floatType);

  if (cfg.mid_block_type !== null) {
    h = midBlock(blocks, cfg, h);
    if (opts.controlResiduals) h = { v: g.scope('control', () => g.op('Add', [h.v, g.input('mid_residual', floatType, h.shape)], {}, { name: 'add_mid' })), shape: h.shape };
    tap('mid_block', h);
  }

  for (let i = 0; i < nBlocks; i++) {
    const p = `up_blocks.${i}`;
    const r = nBlocks - 1 - i; // diffusers reverses per-block lists for the up path
    const cross = isCrossAttn(cfg.up_block_types[i]);
    for (let j = 0; j <= cfg.layers_per_block; j++) {
      const skip = skips.pop();
      if (!skip) throw new Error('unet: skip stack exhausted');
      h = spatialLayer(blocks, `${p}.layers.${j}`, [h, skip], cross, (c, [x, s]) => {
        let y: Val = { v: c.g.scope(`${p}.resnets.${j}`, () => c.g.op('Concat', [x.v, s.v], { axis: attr.int(1) }, { name: 'cat_skip' })), shape: [x.shape[0], x.shape[1] + s.shape[1], x.shape[2], x.shape[3]] };
        y = resnet(c, `${p}.resnets.${j}`, y);
        return cross ? transformer2d(c, `${p}.attentions.${j}`, y, perBlock(heads, r, 'head count'), perBlock(tlayers, r, 'transformer depth')) : y;
      });
      if (motion) h = applyMotion(blocks, `${p}.motion_modules.${j}`, h, motionHeads(motion.cfg, r, nBlocks, 'up'));
    }
    if (i < nBlocks - 1) {
      // Upsample to the size of the next skip (diffusers' forward_upsample_size), which is 2× unless the
      // latent size is not divisible by the total downsampling factor.
      const next = skips[skips.length - 1];
      const size: [number, number] = [next.shape[2], next.shape[3]];
      const conv = `${p}.upsamplers.0.conv`;
      const up = g.scope(`${p}.upsamplers.0`, () => resizeNearest(g, h.v, h.shape, size));
      h = { v: conv2d(g, w, conv, up, { inShape: [n, h.shape[1], size[0], size[1]] }), shape: [n, need(w, `${conv}.weight`).shape[0], size[0], size[1]] };
    }
    tap(p, h);
  }
  if (skips.length !== 0) throw new Error(`unet: ${skips.length} skip connections left unused`);

  h = { v: groupNorm(g, w, 'conv_norm_out', h.v, h.shape, groups, eps), shape: h.shape };
  tap('conv_norm_out', h);
  const outCh = need(w, 'conv_out.weight').shape[0];
  const out = conv2d(g, w, 'conv_out', g.scope('conv_out', () => silu(g, h.v)), { exact: true });
  g.output(out, 'noise_pred', floatType, [n, outCh, opts.latentHeight, opts.latentWidth]);
  const graph = g.build();
  checkAllWeightsUsed(graph, w, 'UNet');
  if (motion) checkAllWeightsUsed(graph, motion.w, 'motion module');
  return graph;
}

/**
 * The encoder's down blocks (the UNet's, and a ControlNet's own copy): resnet (+ cross-attention) (+ motion module)
 * per layer, then the downsampler; returns the last feature and the skip features the up path (or the ControlNet's
 * zero convs) take, `first` (conv_in's output) first.
 */
export function downPass(c: BlockCtx, cfg: UNetConfig, first: Val, inject?: (block: number, layer: number, x: Val) => Val): { h: Val; skips: Val[] } {
  const { g, w, motion } = c;
  const nBlocks = cfg.block_out_channels.length;
  const n = first.shape[0];
  const heads = cfg.attention_head_dim;
  const tlayers = cfg.transformer_layers_per_block as number | number[];
  let h = first;
  const skips: Val[] = [h];
  for (let i = 0; i < nBlocks; i++) {
    const p = `down_blocks.${i}`;
    const cross = isCrossAttn(cfg.down_block_types[i]);
    for (let j = 0; j < cfg.layers_per_block; j++) {
      h = spatialLayer(c, `${p}.layers.${j}`, [h], cross, (cc, [x]) => {
        const y = resnet(cc, `${p}.resnets.${j}`, x);
        return cross ? transformer2d(cc, `${p}.attentions.${j}`, y, perBlock(heads, i, 'head count'), perBlock(tlayers, i, 'transformer depth')) : y;
      });
      if (inject) h = inject(i, j, h);
      if (motion) h = applyMotion(c, `${p}.motion_modules.${j}`, h, motionHeads(motion.cfg, i, nBlocks, 'down'));
      skips.push(h);
    }
    if (i < nBlocks - 1) {
      const conv = `${p}.downsamplers.0.conv`;
      const [oh, ow] = [Math.floor((h.shape[2] + 2 * cfg.downsample_padding - 3) / 2) + 1, Math.floor((h.shape[3] + 2 * cfg.downsample_padding - 3) / 2) + 1];
      h = { v: conv2d(g, w, conv, h.v, { stride: 2, pad: cfg.downsample_padding, inShape: h.shape }), shape: [n, need(w, `${conv}.weight`).shape[0], oh, ow] };
      skips.push(h);
    }
    c.tap(p, h);
  }
  return { h, skips };
}

/** `UNetMidBlock2DCrossAttn`: resnet, cross-attention (+ the mid motion module when the adapter has one), resnet. */
export function midBlock(c: BlockCtx, cfg: UNetConfig, x: Val): Val {
  const last = cfg.block_out_channels.length - 1;
  const heads = cfg.attention_head_dim;
  const tlayers = cfg.transformer_layers_per_block as number | number[];
  const motion = c.motion;
  let h = spatialLayer(c, 'mid_block.layers.0', [x], true, (cc, [v]) =>
    transformer2d(cc, 'mid_block.attentions.0', resnet(cc, 'mid_block.resnets.0', v), perBlock(heads, last, 'head count'), perBlock(tlayers, last, 'transformer depth')),
  );
  if (motion && motion.cfg.use_motion_mid_block) h = applyMotion(c, 'mid_block.motion_modules.0', h, motionHeads(motion.cfg, last, cfg.block_out_channels.length, 'mid'));
  return spatialLayer(c, 'mid_block.layers.1', [h], false, (cc, [v]) => resnet(cc, 'mid_block.resnets.1', v));
}

/**
 * Skip feature #i += input `down_residual_i`, in place in the skip list: after the whole down pass, so motion
 * modules inside the down blocks see uncontrolled features and only the up path sees controlled skips.
 */
function addControlResiduals(g: GraphBuilder, skips: Val[], floatType: 'float32' | 'float16'): void {
  skips.forEach((s, i) => {
    const r = g.input(`down_residual_${i}`, floatType, s.shape);
    skips[i] = { v: g.scope('control', () => g.op('Add', [s.v, r], {}, { name: `add_down_${i}` })), shape: s.shape };
  });
}

/**
 * A weight the graph never reads means the config does not describe the file (deeper transformers, an extra
 * embedding such as LCM's `time_embedding.cond_proj`): the output would be silently wrong, so refuse. The
 * sinusoidal position tables are the exception: they are recomputed, never read.
 */
export function checkAllWeightsUsed(graph: GraphIR, w: WeightSet, what: string): void {
  const used = new Set(allInitializers(graph).flatMap((i) => (i.source.kind === 'weight' ? [i.source.view.name] : [])));
  const unused = w.names().filter((k) => !used.has(k) && !/\.pos_(embed|encoder)\./.test(k));
  if (unused.length > 0) {
    throw new StudioError(
      'MODEL_FAMILY_UNSUPPORTED',
      `The ${what} has ${unused.length} weight(s) this SD1.5-style architecture does not use (e.g. ${unused.slice(0, 3).join(', ')}); it is probably a different model family or variant.`,
      { unused: unused.slice(0, 20) },
    );
  }
}

export interface BlockCtx {
  g: GraphBuilder;
  w: WeightSet;
  tembAct: string;
  context: string;
  contextDim: number;
  /** Rows of the text context per call (N·tokens): what cross-attention k/v see (slot form choice). */
  contextRows: number;
  /** Tokens per text embedding (77·k). */
  contextLength: number;
  eps: number;
  groups: number;
  useLinear: boolean;
  motion: MotionInflation | undefined;
  tap: (name: string, x: Val) => void;
  slots: LoraSlotPlan | undefined;
  /** Spatial layers as Scans over sample groups (the CPU memory plan); absent ⇒ every sample at once. */
  chunks?: SampleChunkPlan;
}

/**
 * One spatial layer (resnet, its cross-attention transformer, an up path's skip concat): built once on all
 * samples, or — under a chunk plan, where the samples do not fit one iteration — as a Scan over groups of
 * samples whose body is the same layer on k samples (and on their rows of the text context when it attends to
 * it). Spatial layers never mix samples, so both forms compute the same tensor.
 */
function spatialLayer(c: BlockCtx, name: string, inputs: Val[], usesContext: boolean, fn: (c: BlockCtx, xs: Val[]) => Val): Val {
  const [n, , hh, ww] = inputs[0].shape;
  const ctx: Val = { v: c.context, shape: [n, c.contextLength, c.contextDim] };
  const scanned = usesContext ? [...inputs, ctx] : inputs;
  // Unchunked, the context "chunk" is the whole context and k = n: the same BlockCtx values as c.
  const [out] = overSamples(c.g, name, c.chunks, scanned, hh * ww, (chunks, k) => {
    const inner: BlockCtx = usesContext ? { ...c, context: chunks[chunks.length - 1].v, contextRows: k * c.contextLength } : c;
    return [fn(inner, chunks.slice(0, inputs.length))];
  });
  return out;
}

/**
 * diffusers `Timesteps`: freq_i = exp(−ln(10000)·i / (half − freq_shift)), emb = [sin(t·f), cos(t·f)]
 * (flipped to [cos, sin] with flip_sin_to_cos). The frequencies are rounded step by step the way torch
 * computes them in float32, so the table is the reference's bit for bit.
 */
export function timestepFrequencies(dim: number, freqShift: number): Float32Array {
  const half = Math.floor(dim / 2);
  const f = Math.fround;
  const scale = f(-Math.log(10000));
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = f(Math.exp(f(f(f(i) * scale) / f(half - freqShift))));
  return out;
}

export function timestepProjection(g: GraphBuilder, w: WeightSet, cfg: UNetConfig, t: string): Val {
  const dim = need(w, 'time_embedding.linear_1.weight').shape[1];
  const half = Math.floor(dim / 2);
  return g.scope('time_proj', () => {
    // Constant (not an initializer): stays float32 in an fp16 graph.
    const freqs = g.op('Constant', [], { value_floats: attr.floats(Array.from(timestepFrequencies(dim, cfg.freq_shift))) }, { name: 'freqs' });
    const arg = g.op('Mul', [g.op('Unsqueeze', [t, g.i64([1])], {}, { name: 't_col' }), freqs], {}, { name: 'arg' });
    const { sin, cos } = sinCos(g, arg, g.trig);
    const parts = cfg.flip_sin_to_cos ? [cos, sin] : [sin, cos];
    // An odd embedding width gets one zero column, as diffusers pads it.
    if (dim % 2 === 1) parts.push(g.op('Constant', [], { value_floats: attr.floats([0]) }, { name: 'pad' }));
    let emb = g.op('Concat', parts.map((x, i) => (i < 2 ? x : g.op('Unsqueeze', [x, g.i64([0])], {}, { name: 'pad_row' }))), { axis: attr.int(1) }, { name: 'concat' });
    if (g.floatType === 'float16') emb = g.op('Cast', [emb], { to: attr.int(10) }, { name: 'to_fp16' });
    return { v: emb, shape: [1, 2 * half + (dim % 2)] };
  });
}

/** diffusers `ResnetBlock2D` (time_embedding_norm "default", output_scale_factor 1). */
export function resnet(c: BlockCtx, p: string, x: Val): Val {
  const { g, w } = c;
  const op = scopedOp(g, p);
  const [n, , hh, ww] = x.shape;
  const outCh = need(w, `${p}.conv1.weight`).shape[0];
  let h = groupNorm(g, w, `${p}.norm1`, x.v, x.shape, c.groups, c.eps);
  h = conv2d(g, w, `${p}.conv1`, g.scope(`${p}.norm1`, () => silu(g, h)), { inShape: x.shape });
  const t = linear(g, w, `${p}.time_emb_proj`, c.tembAct, { exact: true });
  h = op('Add', [h, op('Unsqueeze', [t, g.i64([2, 3])], 'temb_4d')], 'add_temb');
  const hs = [n, outCh, hh, ww];
  const h2 = groupNorm(g, w, `${p}.norm2`, h, hs, c.groups, c.eps);
  h = conv2d(g, w, `${p}.conv2`, g.scope(`${p}.norm2`, () => silu(g, h2)), { inShape: hs });
  const hasShortcut = w.has(`${p}.conv_shortcut.weight`);
  if (!hasShortcut && x.shape[1] !== outCh) {
    throw new StudioError('MODEL_KEYS_MISSING', `The model has no weight "${p}.conv_shortcut.weight" (channels change ${x.shape[1]}→${outCh}).`, { key: `${p}.conv_shortcut.weight` });
  }
  const shortcut = hasShortcut ? conv2d(g, w, `${p}.conv_shortcut`, x.v, { pad: 0, inShape: x.shape }) : x.v;
  return { v: op('Add', [shortcut, h], 'residual'), shape: hs };
}

/** diffusers `Transformer2DModel` (continuous input): GroupNorm → proj_in → BasicTransformerBlock×L → proj_out → +x. */
export function transformer2d(c: BlockCtx, p: string, x: Val, heads: number, depth: number): Val {
  const { g, w } = c;
  const op = scopedOp(g, p);
  const [n, ch, hh, ww] = x.shape;
  const inner = need(w, `${p}.proj_in.weight`).shape[0];
  const nhwc = { perm: attr.ints([0, 2, 3, 1]) };
  const nchw = { perm: attr.ints([0, 3, 1, 2]) };
  const normed = groupNorm(g, w, `${p}.norm`, x.v, x.shape, c.groups, TRANSFORMER_GN_EPS);
  const rows = n * hh * ww;
  const conv1x1 = (m: string, v: string, inShape: readonly number[]): string => (c.slots ? plannedConv1x1(g, w, c.slots, m, v, rows, inShape) : conv2d(g, w, m, v, { pad: 0, inShape }));
  const lin = (m: string, v: string): string => (c.slots ? plannedLinear(g, w, c.slots, m, v, rows) : linear(g, w, m, v));
  let h: string;
  if (!c.useLinear) {
    // SD1.5: proj_in/proj_out are 1×1 convolutions on NCHW.
    h = conv1x1(`${p}.proj_in`, normed, x.shape);
    h = op('Reshape', [op('Transpose', [h], 'to_nhwc', nhwc), g.i64([n, hh * ww, inner])], 'to_seq');
  } else {
    h = op('Reshape', [op('Transpose', [normed], 'to_nhwc', nhwc), g.i64([n, hh * ww, ch])], 'to_seq');
    h = lin(`${p}.proj_in`, h);
  }
  for (let l = 0; l < depth; l++) h = basicTransformerBlock(c, `${p}.transformer_blocks.${l}`, h, heads, rows);
  if (!c.useLinear) {
    h = op('Transpose', [op('Reshape', [h, g.i64([n, hh, ww, inner])], 'from_seq')], 'to_nchw', nchw);
    h = conv1x1(`${p}.proj_out`, h, [n, inner, hh, ww]);
  } else {
    h = lin(`${p}.proj_out`, h);
    h = op('Transpose', [op('Reshape', [h, g.i64([n, hh, ww, ch])], 'from_seq')], 'to_nchw', nchw);
  }
  return { v: op('Add', [h, x.v], 'residual'), shape: x.shape };
}

/** diffusers `BasicTransformerBlock`: self-attn, cross-attn on the text, GEGLU FF, each pre-LayerNorm + residual. */
function basicTransformerBlock(c: BlockCtx, p: string, x: string, heads: number, rows: number): string {
  const { g, w } = c;
  const op = scopedOp(g, p);
  // Without a slot plan these are exactly layers.ts' attention / feedForwardGeglu (the plain graph, node for node).
  const attn = (m: string, q: string, kv: string, kvRows: number, o?: { contextDim?: number }): string =>
    c.slots ? slottedAttention(c, m, q, kv, rows, kvRows, heads, o) : attention(g, w, m, q, kv, heads, attentionSeq(c, rows, kvRows), o);
  const ff = (m: string, v: string): string => (c.slots ? slottedFeedForward(c, m, v, rows) : feedForwardGeglu(g, w, m, v));
  let h = x;
  let nrm = layerNorm(g, w, `${p}.norm1`, h, LAYER_NORM_EPS);
  h = op('Add', [attn(`${p}.attn1`, nrm, nrm, rows), h], 'res_attn1');
  nrm = layerNorm(g, w, `${p}.norm2`, h, LAYER_NORM_EPS);
  h = op('Add', [attn(`${p}.attn2`, nrm, c.context, c.contextRows, { contextDim: c.contextDim }), h], 'res_attn2');
  nrm = layerNorm(g, w, `${p}.norm3`, h, LAYER_NORM_EPS);
  return op('Add', [ff(`${p}.ff`, nrm), h], 'res_ff');
}

/** Batch, query and key lengths of a spatial attention from its row counts (rows = batch · sequence). */
function attentionSeq(c: BlockCtx, rows: number, kvRows: number): { batch: number; queries: number; keys: number } {
  const batch = c.contextRows / c.contextLength;
  return { batch, queries: rows / batch, keys: kvRows / batch };
}

/** `attention` (layers.ts) with each projection through the slot plan; same ops and names otherwise. */
function slottedAttention(c: BlockCtx, p: string, x: string, context: string, rows: number, kvRows: number, heads: number, opts: { contextDim?: number } = {}): string {
  const { g, w } = c;
  const q = plannedLinear(g, w, c.slots, `${p}.to_q`, x, rows);
  const k = plannedLinear(g, w, c.slots, `${p}.to_k`, context, kvRows, { inFeatures: opts.contextDim });
  const v = plannedLinear(g, w, c.slots, `${p}.to_v`, context, kvRows, { inFeatures: opts.contextDim });
  const inner = need(w, `${p}.to_q.weight`).shape[0];
  if (inner % heads !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `Attention ${p}: ${inner} channels do not split into ${heads} heads.`, { prefix: p, inner, heads });
  }
  const o = g.scope(p, () => multiHeadAttention(g, q, k, v, heads, { ...attentionSeq(c, rows, kvRows), channels: inner }));
  return plannedLinear(g, w, c.slots, `${p}.to_out.0`, o, rows);
}

/** `feedForwardGeglu` (layers.ts) with both Linears through the slot plan. */
function slottedFeedForward(c: BlockCtx, p: string, x: string, rows: number): string {
  const { g, w } = c;
  const proj = `${p}.net.0.proj`;
  const h = plannedLinear(g, w, c.slots, proj, x, rows);
  const half = need(w, `${proj}.weight`).shape[0] / 2;
  const act = g.scope(proj, () => {
    const [a, gate] = g.opN('Split', [h, g.i64([half, half])], 2, { axis: attr.int(-1) }, { name: 'split' });
    return g.op('Mul', [a, gelu(g, gate)], {}, { name: 'geglu' });
  });
  return plannedLinear(g, w, c.slots, `${p}.net.2`, act, rows);
}

/** The image encoder's level-`level` feature as a graph input of h's shape, added to h. */
function addImageFeature(g: GraphBuilder, block: string, level: number, h: Val, floatType: 'float32' | 'float16'): Val {
  const feature = g.input(imageFeatureName(level), floatType, h.shape);
  return { v: g.scope(block, () => g.op('Add', [h.v, feature], {}, { name: 'add_img_feature' })), shape: h.shape };
}

/** The down blocks that receive an image feature (those with at least two layers: all of them or none). */
export function imageFeatureLevels(cfg: UNetConfig): number[] {
  return cfg.layers_per_block >= 2 ? cfg.block_out_channels.map((_, i) => i) : [];
}

function applyMotion(c: BlockCtx, p: string, x: Val, heads: number): Val {
  const m = c.motion;
  if (!m) throw new Error('unreachable');
  const y: Val = { v: motionModule(c.g, m.w, p, x.v, x.shape, { frames: m.frames, heads, groups: m.cfg.motion_norm_num_groups, groupnorm: m.groupnorm, maxFrames: m.cfg.motion_max_seq_length, loraSlots: c.slots, windows: m.windows, chunks: c.chunks }), shape: x.shape };
  c.tap(p, y);
  return y;
}

/** MotionAdapter heads: a number, or per block (down order; the up path reversed, mid = last). */
function motionHeads(cfg: MotionConfig, blockFromDown: number, nBlocks: number, where: 'down' | 'mid' | 'up'): number {
  const hv = cfg.motion_num_attention_heads as number | number[];
  return perBlock(hv, where === 'mid' ? nBlocks - 1 : blockFromDown, 'motion head count');
}

function checkMotionMatches(cfg: UNetConfig, m: MotionInflation): void {
  const mc = m.cfg;
  const same = mc.block_out_channels.length === cfg.block_out_channels.length && mc.block_out_channels.every((c, i) => c === cfg.block_out_channels[i]);
  if (!same) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `This motion module is for UNet channels [${mc.block_out_channels.join(', ')}], but the checkpoint has [${cfg.block_out_channels.join(', ')}]. Use a motion module made for this base model family.`);
  }
  if (mc.motion_layers_per_block !== cfg.layers_per_block) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `This motion module has ${mc.motion_layers_per_block} modules per block, but the UNet has ${cfg.layers_per_block} layers per block.`);
  }
  if (!(m.frames >= 1 && (m.windows !== undefined || m.frames <= mc.motion_max_seq_length))) {
    throw new StudioError('INVALID_PARAMS', `${m.frames} frames requested; this motion module handles 1 to ${mc.motion_max_seq_length} frames.`, { frames: m.frames, max: mc.motion_max_seq_length });
  }
  // Every module the architecture needs must be present (a v1/v3 module without mid block sets use_motion_mid_block false).
  const expected = cfg.block_out_channels.length * (2 * cfg.layers_per_block + 1) + (mc.use_motion_mid_block && cfg.mid_block_type !== null ? 1 : 0);
  const found = motionModuleCount(m.w);
  if (found !== expected) {
    throw new StudioError('MODEL_KEYS_MISSING', `The motion module has ${found} temporal transformers; this UNet needs ${expected}. The file may be for another AnimateDiff version or incomplete.`, { found, expected });
  }
}
