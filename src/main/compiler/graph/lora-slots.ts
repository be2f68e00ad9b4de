import type { WeightSet } from '../io/tensor';
import type { GraphBuilder } from './builder';
import { conv2d, linear, need } from './layers';

/**
 * Run-time low-rank LoRA (mechanism ii): a graph compiled once with, per targeted layer, two extra inputs of a
 * fixed maximum rank R. The layer computes y = x·(W + U·D)ᵀ (see SlotMode); switching the stack means feeding new D/U
 * tensors — no new session, no weight rewrite. A stack of LoRAs is concatenated along the rank (multiplier and
 * alpha/r folded into U), zero-padded to R; zero rows cost the same matmuls but change nothing.
 *
 * Only plain low-rank modules (kohya/LoCon without 3×3 kernels, PEFT, attn-procs) on Linear and 1×1-conv
 * layers fit; LoHa, LoKr, full diffs, 3×3 LoCon, or a stack whose total rank exceeds R must take the merged
 * path. This file is the graph side (what the UNet and CLIP builders call); the run side — turning a stack into
 * the slot feeds — is engine/lora/lowrank-feeds.ts.
 */
export interface LoraSlot {
  /** Canonical module path (no `.weight`). */
  module: string;
  kind: 'linear' | 'conv1x1';
  inFeatures: number;
  outFeatures: number;
}

export function slotInputNames(module: string): { down: string; up: string } {
  return { down: `lora_down:${module}`, up: `lora_up:${module}` };
}

/**
 * How a slot enters the graph.
 * - 'weight' (default): W'ᵀ = Wᵀ + Dᵀ·Uᵀ is formed in the graph every call, then y = x·W'ᵀ. Cost per call is
 *   out·in·R multiply-adds per layer, independent of batch, frames and tokens — at AnimateLCM batch sizes
 *   (frames × CFG) that is a fraction of a percent of the UNet.
 * - 'activation': y = x·Wᵀ + (x·Dᵀ)·Uᵀ. Cost grows with tokens × R × (in + out) and the rank-R matmuls are
 *   skinny, so onnxruntime runs them far below peak; measured much slower (README).
 */
export type SlotMode = 'weight' | 'activation';

/**
 * Which slot form is cheaper for one layer of a compiled graph, from its shapes: 'activation' costs
 * tokens·R·(in+out) multiply-adds per call; 'weight' costs in·out·R plus a few full passes over the weight
 * (the Gemm output, the Add, and onnxruntime packing a non-constant MatMul operand each call), which measured
 * like ~24 extra multiply-adds per weight element (bench/lora.ts, README). `tokens` = rows the layer sees per
 * call (batch × frames × h·w for spatial layers, batch × 77 for cross-attention k/v).
 */
export function chooseSlotMode(tokens: number, inFeatures: number, outFeatures: number, rank: number): SlotMode {
  const activation = tokens * rank * (inFeatures + outFeatures);
  const weight = inFeatures * outFeatures * (rank + 24);
  return weight <= activation ? 'weight' : 'activation';
}

/**
 * Adds the low-rank branch of `slot` to `y` (the layer's base output for input `x`) and returns the sum
 * ('activation' mode). linear: x [..., in], feeds `down` [R, in] and `up` [out, R];
 * conv1x1: x [N, in, H, W], feeds `down` [R, in, 1, 1] and `up` [out, R, 1, 1] (Conv kernels).
 */
export function addLoraSlot(g: GraphBuilder, slot: LoraSlot, x: string, y: string, rank: number): string {
  const { d, u } = slotInputs(g, slot, rank);
  if (slot.kind === 'linear') {
    return g.scope(slot.module, () => {
      const perm = { perm: { kind: 'ints' as const, value: [1, 0] } };
      const h = g.op('MatMul', [x, g.op('Transpose', [d], perm, { name: 'lora_down_t' })], {}, { name: 'lora_down' });
      return g.op('Add', [y, g.op('MatMul', [h, g.op('Transpose', [u], perm, { name: 'lora_up_t' })], {}, { name: 'lora_up' })], {}, { name: 'lora_add' });
    });
  }
  return g.scope(slot.module, () => g.op('Add', [y, g.op('Conv', [g.op('Conv', [x, d], {}, { name: 'lora_down' }), u], {}, { name: 'lora_up' })], {}, { name: 'lora_add' }));
}

/** Feeds are the factors as stored (D [R, in], U [out, R]; 4-D kernels for 1×1 convs), so building them is copying. */
/** The slot inputs each graph already declared: a layer applied more than once (FreeNoise window groups) shares them. */
const declaredSlots = new WeakMap<GraphBuilder, Map<string, { d: string; u: string }>>();

function slotInputs(g: GraphBuilder, slot: LoraSlot, rank: number): { d: string; u: string } {
  let declared = declaredSlots.get(g);
  if (!declared) declaredSlots.set(g, (declared = new Map()));
  const known = declared.get(slot.module);
  if (known) return known;
  const names = slotInputNames(slot.module);
  const ft = g.floatType;
  const inputs =
    slot.kind === 'linear'
      ? { d: g.input(names.down, ft, [rank, slot.inFeatures]), u: g.input(names.up, ft, [slot.outFeatures, rank]) }
      : { d: g.input(names.down, ft, [rank, slot.inFeatures, 1, 1]), u: g.input(names.up, ft, [slot.outFeatures, rank, 1, 1]) };
  declared.set(slot.module, inputs);
  return inputs;
}

/**
 * A Linear layer (weights `${slot.module}.weight` / `.bias` in `w`) with a run-time LoRA slot: y = x·(W + U·D)ᵀ + b
 * in 'weight' mode, or the 'activation' form. Graph builders call this instead of `linear` for targeted layers.
 */
export function linearWithLoraSlot(g: GraphBuilder, w: WeightSet, slot: LoraSlot, x: string, rank: number, mode: SlotMode = 'weight'): string {
  if (mode === 'activation') return addLoraSlot(g, slot, x, linear(g, w, slot.module, x), rank);
  const W = need(w, `${slot.module}.weight`);
  const { d, u } = slotInputs(g, slot, rank);
  return g.scope(slot.module, () => {
    // Dᵀ·Uᵀ = (U·D)ᵀ in the [in, out] layout the base weight is stored in
    const delta = g.op('Gemm', [d, u], { transA: { kind: 'int', value: 1 }, transB: { kind: 'int', value: 1 } }, { name: 'lora_delta' });
    const wt = g.op('Add', [g.weight(W, { transpose: true }), delta], {}, { name: 'lora_weight' });
    let y = g.op('MatMul', [x, wt], {}, { name: 'matmul' });
    const b = w.get(`${slot.module}.bias`);
    if (b) y = g.op('Add', [y, g.weight(b)], {}, { name: 'bias' });
    return y;
  });
}

/** A 1×1 Conv layer with a run-time LoRA slot (SD1.5's proj_in / proj_out). */
export function conv1x1WithLoraSlot(g: GraphBuilder, w: WeightSet, slot: LoraSlot, x: string, rank: number, mode: SlotMode = 'weight', inShape?: readonly number[]): string {
  if (mode === 'activation') return addLoraSlot(g, slot, x, conv2d(g, w, slot.module, x, { pad: 0, inShape }), rank);
  const W = need(w, `${slot.module}.weight`);
  const { d, u } = slotInputs(g, slot, rank);
  const { inFeatures: inF, outFeatures: outF } = slot;
  return g.scope(slot.module, () => {
    const du = g.op('MatMul', [g.op('Reshape', [u, g.i64([outF, rank])]), g.op('Reshape', [d, g.i64([rank, inF])])], {}, { name: 'lora_delta' });
    const wk = g.op('Add', [g.weight(W), g.op('Reshape', [du, g.i64([outF, inF, 1, 1])])], {}, { name: 'lora_weight' });
    const inputs = [x, wk];
    const b = w.get(`${slot.module}.bias`);
    if (b) inputs.push(g.weight(b));
    return g.op('Conv', inputs, {}, { name: 'conv' });
  });
}

/**
 * What a graph builder needs to give layers run-time slots (the `loraSlots` option of buildUNetGraph /
 * buildClipTextGraph). Absent option ⇒ the builder emits exactly its plain graph.
 */
export interface LoraSlotPlan {
  /** Maximum total rank per layer (R); the slot inputs are [R, in] and [out, R]. */
  rank: number;
  /** Which modules (canonical path, no `.weight`) get a slot. Default: `isSlotModule`. */
  include?: (module: string) => boolean;
  /** Slot form: 'auto' (default) = `chooseSlotMode` per layer from the rows it sees in this graph. */
  mode?: SlotMode | 'auto';
}

/**
 * The layers community LoRAs target on SD1.5 and that a slot can carry: every Linear and 1×1 conv of the UNet's
 * transformer blocks (proj_in/out, attn1/attn2 q/k/v/out, GEGLU FF) and every CLIP attention/MLP Linear.
 * Resnet and sampler convolutions (3×3, LoCon) and time-embedding layers take the merged path.
 */
const UNET_SLOT = /^(down_blocks\.\d+|mid_block|up_blocks\.\d+)\.attentions\.\d+\.(proj_in|proj_out|transformer_blocks\.\d+\.(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.(0\.proj|2)))$/;
/** AnimateDiff motion-module attention (what MotionLoRAs target): q/k/v/out of both temporal self-attentions. */
const MOTION_SLOT = /^(down_blocks\.\d+|mid_block|up_blocks\.\d+)\.motion_modules\.\d+\.transformer_blocks\.\d+\.attn[12]\.(to_q|to_k|to_v|to_out\.0)$/;
const CLIP_SLOT = /^text_model\.encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])$/;

export function isSlotModule(module: string): boolean {
  return UNET_SLOT.test(module) || CLIP_SLOT.test(module) || MOTION_SLOT.test(module);
}

/** The slots a model's weights have under `include` (weight shapes decide linear vs 1×1 conv), in name order. */
export function slotsFor(w: WeightSet, include: (module: string) => boolean = isSlotModule): LoraSlot[] {
  const out: LoraSlot[] = [];
  for (const name of [...w.names()].sort()) {
    if (!name.endsWith('.weight')) continue;
    const module = name.slice(0, -'.weight'.length);
    if (!include(module)) continue;
    const slot = slotOf(w, module);
    if (slot) out.push(slot);
  }
  return out;
}

function slotOf(w: WeightSet, module: string): LoraSlot | undefined {
  const W = w.get(`${module}.weight`);
  if (!W) return undefined;
  if (W.shape.length === 2) return { module, kind: 'linear', inFeatures: W.shape[1], outFeatures: W.shape[0] };
  if (W.shape.length === 4 && W.shape[2] === 1 && W.shape[3] === 1) return { module, kind: 'conv1x1', inFeatures: W.shape[1], outFeatures: W.shape[0] };
  return undefined;
}

/**
 * A Linear layer for graph builders: a slotted layer when `plan` includes `module`, else the plain `linear`
 * (byte-identical to a build without a plan). `rows` = rows the layer sees per call, for the 'auto' form.
 */
export function plannedLinear(g: GraphBuilder, w: WeightSet, plan: LoraSlotPlan | undefined, module: string, x: string, rows: number, opts: { inFeatures?: number } = {}): string {
  const slot = plan && plan.rank > 0 && (plan.include ?? isSlotModule)(module) ? slotOf(w, module) : undefined;
  if (!plan || !slot || slot.kind !== 'linear' || (opts.inFeatures !== undefined && slot.inFeatures !== opts.inFeatures)) return linear(g, w, module, x, opts);
  return linearWithLoraSlot(g, w, slot, x, plan.rank, modeFor(g, plan, slot, rows));
}

/**
 * A 1×1 conv (stride 1, no padding) with a slot when `plan` includes `module`, else the plain conv. `inShape` (the
 * input's static [N, C, H, W]) lets the graph's int8 plan run it as an int8 product (layers.conv2d).
 */
export function plannedConv1x1(g: GraphBuilder, w: WeightSet, plan: LoraSlotPlan | undefined, module: string, x: string, rows: number, inShape?: readonly number[]): string {
  const slot = plan && plan.rank > 0 && (plan.include ?? isSlotModule)(module) ? slotOf(w, module) : undefined;
  if (!plan || !slot || slot.kind !== 'conv1x1') return conv2d(g, w, module, x, { pad: 0, inShape });
  return conv1x1WithLoraSlot(g, w, slot, x, plan.rank, modeFor(g, plan, slot, rows), inShape);
}

function modeFor(g: GraphBuilder, plan: LoraSlotPlan, slot: LoraSlot, rows: number): SlotMode {
  // An int8 layer's weight cannot take a float delta before its product: its slot adds the branch's output.
  if (g.quant === 'int8') return 'activation';
  const m = plan.mode ?? 'auto';
  return m === 'auto' ? chooseSlotMode(rows, slot.inFeatures, slot.outFeatures, plan.rank) : m;
}
