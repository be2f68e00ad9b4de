import { overSamples, type SampleChunkPlan } from '../graph/sample-chunks';
import { StudioError } from '../../../shared/errors';
import type { WeightSet } from '../io/tensor';
import { attr, type GraphBuilder } from '../graph/builder';
import { attention, feedForwardGeglu, groupNorm, layerNorm, linear, multiHeadAttention, need } from '../graph/layers';
import { plannedLinear, type LoraSlotPlan } from '../graph/lora-slots';
import type { MotionGroupNorm } from './configs';
import type { WindowFusionPlan } from './context-windows';
import { scopedOp } from './scoped-op';

/**
 * One AnimateDiff motion module (diffusers `AnimateDiffTransformer3D`, original `TemporalTransformer3DModel`),
 * weights under diffusers MotionAdapter names (`<prefix>.norm`, `.proj_in`, `.transformer_blocks.k.{norm1,
 * attn1, norm2, attn2, norm3, ff}`, `.proj_out`).
 *
 * The spatial UNet runs with frames folded into the batch (row b·F + f); here the rows are unfolded into
 * sequences over frames, one per video and pixel (row b·H·W + y·W + x), attended over, and folded back:
 *
 *   x [B·F, C, H, W] → GroupNorm (eps 1e-6; per frame or across frames) → [B·H·W, F, C] → proj_in
 *   → per block: (LN → +PE[:F] → self-attn) + res, (LN → +PE[:F] → self-attn) + res, (LN → GEGLU FF) + res
 *   → proj_out → [B·F, C, H, W] → + x
 *
 * PE is the fixed sinusoidal table, computed here for exactly F rows: its rows do not depend on the table
 * length, so checkpoints with 24-, 32- or 64-long (or no) stored tables all give the same graph.
 */

const MOTION_GN_EPS = 1e-6;
const LAYER_NORM_EPS = 1e-5;

export interface MotionModuleOptions {
  frames: number;
  heads: number;
  groups: number;
  groupnorm: MotionGroupNorm;
  /** The adapter's motion_max_seq_length: the longest clip its positional table covers. */
  maxFrames: number;
  /**
   * Run-time LoRA slots on the temporal attentions' q/k/v/out (MotionLoRAs switch by feeds, like spatial LoRAs).
   * Absent ⇒ the plain graph, node for node.
   */
  loraSlots?: LoraSlotPlan;
  /**
   * FreeNoise context windows (context-windows.ts): each transformer block's two attentions run per window (the
   * plan's groups of windows batched as sequences of `length` frames, one group after another, positional table
   * rows 0..length−1 in every window), their outputs are fused by the plan's weights, and the feed-forward runs
   * once on every frame. GroupNorm, proj_in, proj_out and the residual always see all frames. Absent ⇒ one window of all frames (the plain module).
   */
  windows?: WindowFusionPlan;
  /**
   * The CPU memory plan (graph/sample-chunks.ts): after the GroupNorm, every pixel's frame sequence is independent,
   * so proj_in, the transformer blocks and proj_out run as a Scan over groups of pixel sequences (≤ maxRows
   * frame tokens per iteration). Absent ⇒ every sequence at once.
   */
  chunks?: SampleChunkPlan;
}

/**
 * Sinusoidal positional table [frames, dim]: PE[p, 2i] = sin(p·d_i), PE[p, 2i+1] = cos(p·d_i),
 * d_i = exp(2i·(−ln 10000 / dim)), rounded step by step as torch computes it in float32.
 */
export function sinusoidalTable(frames: number, dim: number): Float32Array {
  const f = Math.fround;
  const k = f(-Math.log(10000) / dim);
  const pe = new Float32Array(frames * dim);
  for (let i = 0; 2 * i < dim; i++) {
    const div = f(Math.exp(f(2 * i * k)));
    for (let p = 0; p < frames; p++) {
      const a = f(p * div);
      pe[p * dim + 2 * i] = f(Math.sin(a));
      if (2 * i + 1 < dim) pe[p * dim + 2 * i + 1] = f(Math.cos(a));
    }
  }
  return pe;
}

/** Number of motion modules (temporal transformers) in a MotionAdapter weight set. */
export function motionModuleCount(w: WeightSet): number {
  const seen = new Set<string>();
  for (const name of w.names()) {
    const m = /^((?:down_blocks|up_blocks)\.\d+|mid_block)\.motion_modules\.(\d+)\./.exec(name);
    if (m) seen.add(`${m[1]}.${m[2]}`);
  }
  return seen.size;
}

function transformerDepth(w: WeightSet, prefix: string): number {
  let depth = 0;
  while (w.has(`${prefix}.transformer_blocks.${depth}.norm1.weight`)) depth++;
  if (depth === 0) {
    throw new StudioError('MODEL_KEYS_MISSING', `The motion module has no weight "${prefix}.transformer_blocks.0.norm1.weight".`, { key: `${prefix}.transformer_blocks.0.norm1.weight` });
  }
  return depth;
}

export function motionModule(g: GraphBuilder, w: WeightSet, prefix: string, x: string, shape: number[], o: MotionModuleOptions): string {
  const [n, c, hh, ww] = shape;
  const f = o.frames;
  if (n % f !== 0) throw new Error(`motion module ${prefix}: ${n} rows are not a whole number of ${f}-frame videos`);
  if (o.windows && o.windows.frames !== f) throw new Error(`motion module ${prefix}: a window plan for ${o.windows.frames} frames on a ${f}-frame graph`);
  if (!o.windows && f > o.maxFrames) {
    throw new StudioError('INVALID_PARAMS', `${f} frames requested; this motion module handles at most ${o.maxFrames}.`, { frames: f, max: o.maxFrames });
  }
  const b = n / f;
  const hw = hh * ww;
  const inner = need(w, `${prefix}.proj_in.weight`).shape[0];
  const depth = transformerDepth(w, prefix);
  const op = scopedOp(g, prefix);
  const normed =
    o.groupnorm === 'per_frame'
      ? groupNorm(g, w, `${prefix}.norm`, x, shape, o.groups, MOTION_GN_EPS)
      : groupNormAcrossFrames(g, w, `${prefix}.norm`, x, [b, f, c, hh, ww], o.groups, MOTION_GN_EPS);
  // [B·F, C, H, W] → [B, H·W, F, C] → [B·H·W, F, C]
  let h = op('Reshape', [normed, g.i64([b, f, c, hw])], 'split_frames');
  h = op('Transpose', [h], 'to_frame_seq', { perm: attr.ints([0, 3, 1, 2]) });
  h = op('Reshape', [h, g.i64([b * hw, f, c])], 'fold_pixels');
  const seq = o.windows ? o.windows.length : f;
  const pe = g.scope(prefix, () => g.constFloat(sinusoidalTable(seq, inner), [seq, inner], 'pos_embed'));
  // proj_in → blocks → proj_out on `rows` pixel sequences of f frames (all of them, or one Scan group).
  const sequences = (x: string, rows: number): string => {
    let y = linear(g, w, `${prefix}.proj_in`, x);
    for (let k = 0; k < depth; k++) {
      const p = `${prefix}.transformer_blocks.${k}`;
      y = o.windows ? windowedTemporalBlock(g, w, p, y, [rows, f, inner], pe, o.heads, o.windows, o.loraSlots) : temporalBlock(g, w, p, y, pe, o.heads, o.loraSlots, rows * f, { batch: rows, queries: f, keys: f });
    }
    return linear(g, w, `${prefix}.proj_out`, y);
  };
  h = overSamples(g, `${prefix}.sequences`, o.chunks, [{ v: h, shape: [b * hw, f, c] }], f, ([x], k) => [{ v: sequences(x.v, k), shape: [k, f, c] }])[0].v;
  // [B·H·W, F, C] → [B, H·W, F, C] → [B, F, C, H·W] → [B·F, C, H, W]
  h = op('Reshape', [h, g.i64([b, hw, f, c])], 'unfold_pixels');
  h = op('Transpose', [h], 'from_frame_seq', { perm: attr.ints([0, 2, 3, 1]) });
  h = op('Reshape', [h, g.i64(shape)], 'fold_frames');
  return op('Add', [h, x], 'residual');
}

function temporalBlock(g: GraphBuilder, w: WeightSet, p: string, x: string, pe: string, heads: number, slots: LoraSlotPlan | undefined, rows: number, seq: AttentionSeq): string {
  const op = scopedOp(g, p);
  let h = x;
  for (const k of [1, 2]) {
    // The PE goes into the attention input only, never into the residual stream.
    const nrm = op('Add', [layerNorm(g, w, `${p}.norm${k}`, h, LAYER_NORM_EPS), pe], `pos_embed${k}`);
    const a = slots ? slottedSelfAttention(g, w, `${p}.attn${k}`, nrm, heads, slots, rows, seq) : attention(g, w, `${p}.attn${k}`, nrm, nrm, heads, seq);
    h = op('Add', [a, h], `res_attn${k}`);
  }
  const nrm = layerNorm(g, w, `${p}.norm3`, h, LAYER_NORM_EPS);
  return op('Add', [feedForwardGeglu(g, w, `${p}.ff`, nrm), h], 'res_ff');
}

/** `attention` (layers.ts) over `x` itself, each projection through the slot plan; same ops and names otherwise. */
/** Batch, query and key lengths of one attention (the chunked plan needs them static). */
type AttentionSeq = { batch: number; queries: number; keys: number };

function slottedSelfAttention(g: GraphBuilder, w: WeightSet, p: string, x: string, heads: number, slots: LoraSlotPlan, rows: number, seq: AttentionSeq): string {
  const q = plannedLinear(g, w, slots, `${p}.to_q`, x, rows);
  const k = plannedLinear(g, w, slots, `${p}.to_k`, x, rows);
  const v = plannedLinear(g, w, slots, `${p}.to_v`, x, rows);
  const inner = need(w, `${p}.to_q.weight`).shape[0];
  if (inner % heads !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `Attention ${p}: ${inner} channels do not split into ${heads} heads.`, { prefix: p, inner, heads });
  }
  const o = g.scope(p, () => multiHeadAttention(g, q, k, v, heads, { ...seq, channels: inner }));
  return plannedLinear(g, w, slots, `${p}.to_out.0`, o, rows);
}

/**
 * diffusers `FreeNoiseTransformerBlock` on x [R, F, C]. The windows run a group at a time (plan.groups, a
 * bounded number of frame positions each, so memory grows with F only through the block's input and output):
 * a group's windows are gathered into one batch of R·n sequences of L frames (attention is per sequence, so
 * batching is exact), both attentions run on it, each output row is scaled by its position's weight, and every
 * frame the group reaches adds its contributions, in window order, to the partial sum carried from the group
 * before (diffusers' accumulation order, so grouping does not change a bit). Frames no later window reaches are
 * divided by their denominators and set aside; the finished frames are concatenated once. Slot indices past the
 * group's rows point at a zero row for frames with fewer contributions.
 */
export function windowedTemporalBlock(g: GraphBuilder, w: WeightSet, p: string, x: string, dims: [number, number, number], pe: string, heads: number, plan: WindowFusionPlan, slots?: LoraSlotPlan): string {
  const op = scopedOp(g, p);
  const [rows, f, c] = dims;
  const L = plan.length;
  const finished: string[] = [];
  let carry: string | undefined;
  plan.groups.forEach((group, gi) => {
    const nw = group.windows.length;
    const frameIndex = group.windows.flatMap((wi) => Array.from({ length: L }, (_, i) => plan.starts[wi] + i));
    let h = op('Gather', [x, g.i64(frameIndex)], `gather_windows${gi}`, { axis: attr.int(1) });
    h = op('Reshape', [h, g.i64([rows * nw, L, c])], `batch_windows${gi}`);
    for (const k of [1, 2]) {
      const nrm = op('Add', [layerNorm(g, w, `${p}.norm${k}`, h, LAYER_NORM_EPS), pe], `pos_embed${k}`);
      const seq = { batch: rows * nw, queries: L, keys: L };
      const a = slots ? slottedSelfAttention(g, w, `${p}.attn${k}`, nrm, heads, slots, rows * nw * L, seq) : attention(g, w, `${p}.attn${k}`, nrm, nrm, heads, seq);
      h = op('Add', [a, h], `res_attn${k}`);
    }
    h = op('Reshape', [h, g.i64([rows, nw * L, c])], `unbatch_windows${gi}`);
    const positionWeights = Array.from({ length: nw * L }, (_, i) => plan.weights[i % L]);
    const weightsConst = g.scope(p, () => g.constFloat(positionWeights, [1, nw * L, 1], 'window_weights'));
    h = op('Mul', [h, weightsConst], `weigh${gi}`);
    h = op('Pad', [h, g.i64([0, 0, 0, 0, 1, 0])], `zero_row${gi}`);
    if (carry) h = op('Concat', [carry, h], `carry_in${gi}`, { axis: attr.int(1) });
    let acc = '';
    group.sources.forEach((source, k) => {
      const part = op('Gather', [h, g.i64(source)], `contribution${gi}_${k}`, { axis: attr.int(1) });
      acc = k === 0 ? part : op('Add', [acc, part], `accumulate${gi}_${k}`);
    });
    if (group.done.length > 0) {
      const sums = isRange(group.done, 0, group.frames.length) ? acc : op('Gather', [acc, g.i64(group.done)], `sums_done${gi}`, { axis: attr.int(1) });
      const den = Array.from(group.done, (row) => plan.denominators[group.frames[row]]);
      const denominators = g.scope(p, () => g.constFloat(den, [1, den.length, 1], 'denominators'));
      finished.push(op('Div', [sums, denominators], `fuse${gi}`));
    }
    carry = group.carried.length > 0 ? op('Gather', [acc, g.i64(group.carried)], `carry_out${gi}`, { axis: attr.int(1) }) : undefined;
  });
  let fused = finished.length === 1 ? finished[0] : op('Concat', finished, 'finished_frames', { axis: attr.int(1) });
  if (!isRange(plan.completionOrder, 0, f)) {
    const position = new Array<number>(f);
    plan.completionOrder.forEach((frame, i) => (position[frame] = i));
    fused = op('Gather', [fused, g.i64(position)], 'frame_order', { axis: attr.int(1) });
  }
  const nrm = layerNorm(g, w, `${p}.norm3`, fused, LAYER_NORM_EPS);
  return op('Add', [feedForwardGeglu(g, w, `${p}.ff`, nrm), fused], 'res_ff');
}

/** Whether `xs` is exactly from, from + 1, …, to − 1. */
function isRange(xs: readonly number[], from: number, to: number): boolean {
  return xs.length === to - from && xs.every((v, i) => v === from + i);
}

/**
 * diffusers' motion GroupNorm: applied to the (B, C, F, H, W) view, so a group's statistics span all frames
 * of one video. On our [B·F, C, H, W] rows that is a reduction over axes (frame, within-group) of the
 * [B, F, G, C/G·H·W] view; no transposes are needed.
 */
function groupNormAcrossFrames(g: GraphBuilder, w: WeightSet, prefix: string, x: string, dims: number[], groups: number, eps: number): string {
  const [b, f, c, hh, ww] = dims;
  if (c % groups !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `GroupNorm ${prefix}: ${c} channels do not split into ${groups} groups.`, { prefix, channels: c, groups });
  }
  const gamma = need(w, `${prefix}.weight`);
  const beta = need(w, `${prefix}.bias`);
  return g.scope(prefix, () => {
    const v = g.op('Reshape', [x, g.i64([b, f, groups, (c / groups) * hh * ww])], {}, { name: 'group' });
    const axes = { axes: attr.ints([1, 3]), keepdims: attr.int(1) };
    const mean = g.op('ReduceMean', [v], axes, { name: 'mean' });
    const d = g.op('Sub', [v, mean], {}, { name: 'center' });
    const variance = g.op('ReduceMean', [g.op('Mul', [d, d], {}, { name: 'square' })], axes, { name: 'var' });
    const std = g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)], {}, { name: 'var_eps' })], {}, { name: 'std' });
    let y = g.op('Reshape', [g.op('Div', [d, std], {}, { name: 'normalize' }), g.i64([b * f, c, hh, ww])], {}, { name: 'ungroup' });
    y = g.op('Mul', [y, g.weight(gamma, { shape: [c, 1, 1] })], {}, { name: 'scale' });
    return g.op('Add', [y, g.weight(beta, { shape: [c, 1, 1] })], {}, { name: 'shift' });
  });
}
