import { StudioError } from '../../../shared/errors';
import type { TensorView, WeightSet } from '../io/tensor';
import { queryRowsPerSlice } from './attention-plan';
import { attr, type GraphBuilder } from './builder';
import { takesWinograd, WINOGRAD_INPUT_TILE, WINOGRAD_POINTS, WINOGRAD_TILE, winogradInputKernels, winogradOutputKernels } from './conv-plan';

/**
 * Neural-network layers as ONNX op patterns, shared by every model family. Each takes the canonical module
 * path (`prefix`) and finds its weights as `${prefix}.weight` / `${prefix}.bias`, so the graph mirrors the
 * checkpoint. Patterns are the ones onnxruntime's CPU provider runs fast (see tech brief §7): decomposed
 * GroupNorm, LayerNormalization-17, com.microsoft MultiHeadAttention (flash path on CPU) or chunked attention.
 */

export function need(w: WeightSet, name: string): TensorView {
  const v = w.get(name);
  if (!v) throw new StudioError('MODEL_KEYS_MISSING', `The model has no weight "${name}".`, { key: name });
  return v;
}

function expectShape(v: TensorView, shape: number[]): void {
  if (v.shape.length !== shape.length || v.shape.some((d, i) => shape[i] >= 0 && d !== shape[i])) {
    throw new StudioError(
      'MODEL_SHAPE_MISMATCH',
      `Weight "${v.name}" has shape [${v.shape.join(', ')}], expected [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}].`,
      { key: v.name, shape: v.shape, expected: shape },
    );
  }
}

/**
 * y = x·Wᵀ + b over the last axis. W [out,in] is stored transposed so MatMul needs no Transpose node. Under the
 * graph's int8 Linear plan (quant-plan.ts) it is one DynamicQuantizeMatMul with int8 weights, column scales and
 * the bias fused, unless `exact` (layers whose error would steer everything after them, e.g. time embeddings).
 */
export function linear(g: GraphBuilder, w: WeightSet, prefix: string, x: string, opts: { bias?: boolean; inFeatures?: number; exact?: boolean } = {}): string {
  const W = need(w, `${prefix}.weight`);
  if (W.shape.length !== 2) expectShape(W, [-1, -1]);
  if (opts.inFeatures !== undefined) expectShape(W, [-1, opts.inFeatures]);
  if (g.quant === 'int8' && !opts.exact) return int8Linear(g, w, prefix, W, x, opts.bias);
  return g.scope(prefix, () => {
    let y = g.op('MatMul', [x, g.weight(W, { transpose: true })], {}, { name: 'matmul' });
    const hasBias = opts.bias ?? w.has(`${prefix}.bias`);
    if (hasBias) {
      const b = need(w, `${prefix}.bias`);
      expectShape(b, [W.shape[0]]);
      y = g.op('Add', [y, g.weight(b)], {}, { name: 'bias' });
    }
    return y;
  });
}

function int8Linear(g: GraphBuilder, w: WeightSet, prefix: string, W: TensorView, x: string, bias: boolean | undefined): string {
  return g.scope(prefix, () => {
    const inputs = [x, g.weight(W, { transpose: true, encoding: 'int8' }), g.weight(W, { transpose: true, encoding: 'int8-scale' })];
    if (bias ?? w.has(`${prefix}.bias`)) {
      const b = need(w, `${prefix}.bias`);
      expectShape(b, [W.shape[0]]);
      inputs.push('', g.weight(b)); // no weight zero point: the weights are symmetric
    }
    return g.op('DynamicQuantizeMatMul', inputs, {}, { name: 'matmul_q8', domain: 'com.microsoft' });
  });
}

/**
 * 2-D convolution with the stored kernel; padding defaults to "same" for odd kernels. Under the graph's int8 plan
 * (quant-plan.ts) it is an im2col product in uint8 × int8 (`int8Conv`), unless `exact`; under the winograd conv plan
 * (conv-plan.ts) a 3×3 "same" convolution the plan takes is F(4×4, 3×3) (`winogradConv`). Both forms need the
 * input's static shape (`inShape` [N, C, H, W]), so a call without it stays a float Conv.
 */
export function conv2d(
  g: GraphBuilder,
  w: WeightSet,
  prefix: string,
  x: string,
  opts: { stride?: number; pad?: number | [number, number, number, number]; exact?: boolean; inShape?: readonly number[] } = {},
): string {
  const W = need(w, `${prefix}.weight`);
  if (W.shape.length !== 4) expectShape(W, [-1, -1, -1, -1]);
  const [, , kh, kw] = W.shape;
  const stride = opts.stride ?? 1;
  const pads = Array.isArray(opts.pad) ? opts.pad : [opts.pad ?? (kh >> 1), opts.pad ?? (kw >> 1), opts.pad ?? (kh >> 1), opts.pad ?? (kw >> 1)];
  if (g.quant === 'int8' && !opts.exact && opts.inShape) return int8Conv(g, w, prefix, W, x, opts.inShape, stride, pads);
  if (g.conv === 'winograd' && opts.inShape && takesWinograd(W.shape, stride, g.winogradLayers) && pads.every((p) => p === 1)) return winogradConv(g, w, prefix, W, x, opts.inShape);
  const inputs = [x, g.weight(W)];
  const b = w.get(`${prefix}.bias`);
  if (b) inputs.push(g.weight(b));
  return g.scope(prefix, () =>
    g.op('Conv', inputs, {
      kernel_shape: attr.ints([kh, kw]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints(pads),
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
    }, { name: 'conv' }),
  );
}

/**
 * The winograd plan's 3×3 "same" convolution, F(4×4, 3×3) (conv-plan.ts has the maths, the measurements and which
 * layers take it): input transform as a Conv of each channel with the 36 fixed kernels, the product per transform
 * point as one batched MatMul against the stored transformed kernel [36, K, C], output transform as a ConvTranspose
 * that writes the 4×4 tiles in place. H and W need not be multiples of 4: the tiles overhang and are sliced off.
 */
function winogradConv(g: GraphBuilder, w: WeightSet, prefix: string, W: TensorView, x: string, inShape: readonly number[]): string {
  const [K, C] = W.shape;
  const [n, c, h, wd] = inShape;
  if (c !== C) expectShape(W, [K, c, 3, 3]);
  const m = WINOGRAD_TILE;
  const a = WINOGRAD_INPUT_TILE;
  const xi = WINOGRAD_POINTS;
  const t = Math.ceil(h / m);
  const u = Math.ceil(wd / m);
  return g.scope(prefix, () => {
    const planes = g.op('Reshape', [x, g.i64([n * C, 1, h, wd])], {}, { name: 'planes' });
    const v = g.op('Conv', [planes, g.constFloat(winogradInputKernels(), [xi, 1, a, a], 'winograd_bt', 'winograd_bt')], {
      kernel_shape: attr.ints([a, a]),
      strides: attr.ints([m, m]),
      pads: attr.ints([1, 1, 1 + t * m - h, 1 + u * m - wd]),
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
    }, { name: 'winograd_in' });
    const vt = g.op('Transpose', [g.op('Reshape', [v, g.i64([n, C, xi, t * u])], {}, { name: 'v_rows' })], { perm: attr.ints([2, 1, 0, 3]) }, { name: 'v_points' });
    const prod = g.op('MatMul', [g.weight(W, { encoding: 'winograd' }), g.op('Reshape', [vt, g.i64([xi, C, n * t * u])], {}, { name: 'v_cols' })], {}, { name: 'winograd_mm' });
    const mt = g.op('Transpose', [g.op('Reshape', [prod, g.i64([xi, K, n, t * u])], {}, { name: 'm_rows' })], { perm: attr.ints([2, 1, 0, 3]) }, { name: 'm_tiles' });
    const tiles = g.op('Reshape', [mt, g.i64([n * K, xi, t, u])], {}, { name: 'm_planes' });
    let y = g.op('ConvTranspose', [tiles, g.constFloat(winogradOutputKernels(), [xi, 1, m, m], 'winograd_at', 'winograd_at')], { kernel_shape: attr.ints([m, m]), strides: attr.ints([m, m]) }, { name: 'winograd_out' });
    y = g.op('Reshape', [y, g.i64([n, K, t * m, u * m])], {}, { name: 'unplanes' });
    if (t * m !== h || u * m !== wd) y = g.op('Slice', [y, g.i64([0, 0]), g.i64([h, wd]), g.i64([2, 3])], {}, { name: 'crop' });
    const b = w.get(`${prefix}.bias`);
    if (b) {
      expectShape(b, [K]);
      y = g.op('Add', [y, g.weight(b, { shape: [K, 1, 1] })], {}, { name: 'bias' });
    }
    return y;
  });
}

/**
 * The int8 plan's convolution: quantise x once (uint8, per-tensor scale and zero point), go channels-last in uint8,
 * pad with the zero point (the quantised 0.0), concatenate the kh·kw shifted (strided) views into the im2col matrix
 * [N·Ho·Wo, kh·kw·C], multiply by the int8 kernel [kh·kw·C, K] with the column scales and bias fused, and return to
 * NCHW. Every layout step moves uint8, a quarter of the bytes the float tensor would.
 */
function int8Conv(g: GraphBuilder, w: WeightSet, prefix: string, W: TensorView, x: string, inShape: readonly number[], stride: number, pads: number[]): string {
  const [K, C, kh, kw] = W.shape;
  const [n, c, h, wd] = inShape;
  if (c !== C) expectShape(W, [K, c, kh, kw]);
  const [pt, pl, pb, pr] = pads;
  const ho = Math.floor((h + pt + pb - kh) / stride) + 1;
  const wo = Math.floor((wd + pl + pr - kw) / stride) + 1;
  return g.scope(prefix, () => {
    const [xq, xs, xz] = g.opN('DynamicQuantizeLinear', [x], 3, {}, { name: 'quantize' });
    let nhwc = g.op('Transpose', [xq], { perm: attr.ints([0, 2, 3, 1]) }, { name: 'to_nhwc' });
    if (pt || pl || pb || pr) nhwc = g.op('Pad', [nhwc, g.i64([0, pt, pl, 0, 0, pb, pr, 0]), xz], {}, { name: 'pad' });
    const views: string[] = [];
    for (let y = 0; y < kh; y++) {
      for (let xk = 0; xk < kw; xk++) {
        const ends = [y + stride * (ho - 1) + 1, xk + stride * (wo - 1) + 1];
        views.push(kh * kw === 1 && stride === 1 ? nhwc : g.op('Slice', [nhwc, g.i64([y, xk]), g.i64(ends), g.i64([1, 2]), g.i64([stride, stride])], {}, { name: `tap${y}${xk}` }));
      }
    }
    const cols = views.length === 1 ? views[0] : g.op('Concat', views, { axis: attr.int(3) }, { name: 'im2col' });
    const a = g.op('Reshape', [cols, g.i64([n * ho * wo, kh * kw * C])], {}, { name: 'rows' });
    const inputs = [a, g.weight(W, { encoding: 'int8-conv' }), xs, g.weight(W, { encoding: 'int8-conv-scale' }), xz];
    const b = w.get(`${prefix}.bias`);
    if (b) inputs.push('', g.weight(b)); // no weight zero point: the weights are symmetric
    const y = g.op('MatMulIntegerToFloat', inputs, {}, { name: 'matmul_q8', domain: 'com.microsoft' });
    return g.op('Transpose', [g.op('Reshape', [y, g.i64([n, ho, wo, K])], {}, { name: 'unrows' })], { perm: attr.ints([0, 3, 1, 2]) }, { name: 'to_nchw' });
  });
}

/** (x − mean) / √(mean((x − mean)²) + eps) over the last axis, from reductions and elementwise ops (norm-plan.ts). */
function twoPassNorm(g: GraphBuilder, x: string, eps: number): string {
  const mean = (v: string, name: string): string => g.op('ReduceMean', [v], { axes: attr.ints([-1]), keepdims: attr.int(1) }, { name });
  const d = g.op('Sub', [x, mean(x, 'mean')], {}, { name: 'centered' });
  const variance = mean(g.op('Mul', [d, d], {}, { name: 'sq' }), 'var');
  const denom = g.op('Sqrt', [g.op('Add', [variance, g.op('Constant', [], { value_float: attr.float(eps) }, { name: 'eps' })], {}, { name: 'var_eps' })], {}, { name: 'std' });
  return g.op('Div', [d, denom], {}, { name: 'norm' });
}

/**
 * GroupNorm on x of shape `shape` ([N, C, ...spatial]); statistics over (C/groups × spatial) per sample N.
 * Decomposed as Reshape → InstanceNormalization → Reshape → ·γ + β: exact, fast on CPU, and the pattern
 * onnxruntime's own GroupNorm fusion recognises.
 */
export function groupNorm(
  g: GraphBuilder,
  w: WeightSet,
  prefix: string,
  x: string,
  shape: number[],
  groups: number,
  eps: number,
  opts: { affine?: boolean } = {},
): string {
  const [n, c] = shape;
  if (c % groups !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `GroupNorm ${prefix}: ${c} channels do not split into ${groups} groups.`, { prefix, channels: c, groups });
  }
  return g.scope(prefix, () => {
    const grouped = g.op('Reshape', [x, g.i64([n, groups, -1])], {}, { name: 'group' });
    const normed = g.norm === 'two_pass' ? twoPassNorm(g, grouped, eps) : g.op('InstanceNormalization', [grouped, g.constFloat(new Float32Array(groups).fill(1), [groups], 'ones'), g.constFloat(new Float32Array(groups), [groups], 'zeros')], { epsilon: attr.float(eps) }, { name: 'norm' });
    let y = g.op('Reshape', [normed, g.i64(shape)], {}, { name: 'ungroup' });
    if (opts.affine ?? true) {
      const bshape = [c, ...shape.slice(2).map(() => 1)];
      const gamma = need(w, `${prefix}.weight`);
      const beta = need(w, `${prefix}.bias`);
      expectShape(gamma, [c]);
      expectShape(beta, [c]);
      y = g.op('Mul', [y, g.weight(gamma, { shape: bshape })], {}, { name: 'scale' });
      y = g.op('Add', [y, g.weight(beta, { shape: bshape })], {}, { name: 'shift' });
    }
    return y;
  });
}

/** LayerNorm over the last axis (LayerNormalization-17). */
export function layerNorm(g: GraphBuilder, w: WeightSet, prefix: string, x: string, eps: number): string {
  const gamma = need(w, `${prefix}.weight`);
  const beta = need(w, `${prefix}.bias`);
  return g.scope(prefix, () =>
    g.op('LayerNormalization', [x, g.weight(gamma), g.weight(beta)], { axis: attr.int(-1), epsilon: attr.float(eps) }, { name: 'layernorm' }),
  );
}

/** Static sizes of one attention: q [batch, queries, channels], k/v [batch, keys, channels]; channels = heads·d. */
export interface AttentionDims {
  batch: number;
  queries: number;
  keys: number;
  channels: number;
}

/**
 * softmax(QKᵀ/√d)V over [B, S, heads·d] inputs, as the graph's attention plan says (attention-plan.ts):
 * com.microsoft MultiHeadAttention (fused; the CPU's tiled flash path, no B·heads·S·T score tensor), or
 * MatMul/Softmax/MatMul over slices of the queries whose scores fit the plan's budget (chunked; WebGPU).
 */
export function multiHeadAttention(g: GraphBuilder, q: string, k: string, v: string, heads: number, dims: AttentionDims, name = 'mha'): string {
  const plan = g.attention;
  if (plan.kind === 'fused') return g.op('MultiHeadAttention', [q, k, v], { num_heads: attr.int(heads) }, { name, domain: 'com.microsoft' });
  return chunkedAttention(g, q, k, v, heads, dims, queryRowsPerSlice(plan, { ...dims, heads }, g.floatType === 'float16' ? 2 : 4), name);
}

/**
 * Attention as plain ops, `rows` queries at a time: q → [B, h, S, d] (pre-scaled by 1/√d, as the fused kernel
 * scales), kᵀ → [B, h, d, T], v → [B, h, T, d]; per slice Slice → MatMul → Softmax → MatMul; Concat → [B, S, h·d].
 * Slices are emitted one after another, so onnxruntime runs (and frees) each slice's scores before the next.
 */
function chunkedAttention(g: GraphBuilder, q: string, k: string, v: string, heads: number, dims: AttentionDims, rows: number, name: string): string {
  return g.scope(name, () => {
    const split = g.i64([0, 0, heads, -1]); // [B, S, h·d] → [B, S, h, d] (0 keeps B and S)
    const qh = g.op('Transpose', [g.op('Reshape', [q, split], {}, { name: 'q_heads' })], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'q_bhsd' });
    const kt = g.op('Transpose', [g.op('Reshape', [k, split], {}, { name: 'k_heads' })], { perm: attr.ints([0, 2, 3, 1]) }, { name: 'k_bhdt' });
    const vh = g.op('Transpose', [g.op('Reshape', [v, split], {}, { name: 'v_heads' })], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'v_bhtd' });
    const qs = g.op('Mul', [qh, g.scalar(1 / Math.sqrt(dims.channels / heads))], {}, { name: 'q_scaled' });
    const outs: string[] = [];
    for (let start = 0, i = 0; start < dims.queries; start += rows, i++) {
      const end = Math.min(dims.queries, start + rows);
      const qi = rows >= dims.queries ? qs : g.op('Slice', [qs, g.i64([start]), g.i64([end]), g.i64([2])], {}, { name: `q_rows${i}` });
      const scores = g.op('MatMul', [qi, kt], {}, { name: `scores${i}` });
      const probs = g.op('Softmax', [scores], { axis: attr.int(-1) }, { name: `softmax${i}` });
      outs.push(g.op('MatMul', [probs, vh], {}, { name: `weighted${i}` }));
    }
    const o = outs.length === 1 ? outs[0] : g.op('Concat', outs, { axis: attr.int(2) }, { name: 'rows' });
    const bshd = g.op('Transpose', [o], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'o_bshd' });
    return g.op('Reshape', [bshd, g.i64([0, 0, -1])], {}, { name: 'o_merge' });
  });
}

/**
 * Exact (erf) GELU: x·½·(1 + erf(x/√2)). Written with Div by √2 — the form onnxruntime's GeluFusion matches (it
 * does not match Mul by 1/√2) — so the CPU runs one Gelu kernel instead of five element-wise passes over the
 * GEGLU feed-forwards' [N·H·W, 4·C] activations, and holds one intermediate instead of three.
 */
export function gelu(g: GraphBuilder, x: string): string {
  const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)], {}, { name: 'gelu_div' })], {}, { name: 'gelu_erf' });
  const s = g.op('Add', [e, g.scalar(1)], {}, { name: 'gelu_add' });
  return g.op('Mul', [g.op('Mul', [x, s], {}, { name: 'gelu_mul' }), g.scalar(0.5)], {}, { name: 'gelu_half' });
}

/** CLIP's quick GELU: x·σ(1.702x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  const s = g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)], {}, { name: 'qgelu_scale' })], {}, { name: 'qgelu_sigmoid' });
  return g.op('Mul', [x, s], {}, { name: 'qgelu_mul' });
}

export function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x], {}, { name: 'silu_sigmoid' })], {}, { name: 'silu' });
}

/** GEGLU feed-forward input: proj → [a, gate] halves → a·GELU(gate). */
export function geglu(g: GraphBuilder, w: WeightSet, prefix: string, x: string): string {
  const h = linear(g, w, prefix, x);
  const W = need(w, `${prefix}.weight`);
  const half = W.shape[0] / 2;
  return g.scope(prefix, () => {
    const [a, gate] = g.opN('Split', [h, g.i64([half, half])], 2, { axis: attr.int(-1) }, { name: 'split' });
    return g.op('Mul', [a, gelu(g, gate)], {}, { name: 'geglu' });
  });
}

/**
 * diffusers' `Attention` module without norms: to_q/to_k/to_v (bias if stored), heads-way softmax attention,
 * `to_out.0`. `context` is the key/value source (the same value as `x` for self-attention); `contextDim`, when
 * given, is checked against the key/value weights so a text-width mismatch fails with the weight's name.
 * x: [B, S, C], context: [B, T, Cctx] → [B, S, C_out]; `seq` gives B, S and T.
 */
export function attention(
  g: GraphBuilder,
  w: WeightSet,
  prefix: string,
  x: string,
  context: string,
  heads: number,
  seq: Omit<AttentionDims, 'channels'>,
  opts: { contextDim?: number } = {},
): string {
  const q = linear(g, w, `${prefix}.to_q`, x);
  const k = linear(g, w, `${prefix}.to_k`, context, { inFeatures: opts.contextDim });
  const v = linear(g, w, `${prefix}.to_v`, context, { inFeatures: opts.contextDim });
  const inner = need(w, `${prefix}.to_q.weight`).shape[0];
  if (inner % heads !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `Attention ${prefix}: ${inner} channels do not split into ${heads} heads.`, { prefix, inner, heads });
  }
  const o = g.scope(prefix, () => multiHeadAttention(g, q, k, v, heads, { ...seq, channels: inner }));
  return linear(g, w, `${prefix}.to_out.0`, o);
}

/** diffusers' `FeedForward` with GEGLU: `net.0.proj` (GEGLU) → `net.2` (Linear). */
export function feedForwardGeglu(g: GraphBuilder, w: WeightSet, prefix: string, x: string): string {
  return linear(g, w, `${prefix}.net.2`, geglu(g, w, `${prefix}.net.0.proj`, x));
}

/**
 * Nearest-neighbour resize of NCHW `x` to `size` [H, W] (torch `F.interpolate(mode="nearest")`: source index
 * floor(dst·in/out)); for ×2 this repeats every pixel 2×2.
 */
export function resizeNearest(g: GraphBuilder, x: string, shape: number[], size: [number, number]): string {
  return g.op('Resize', [x, '', '', g.i64([shape[0], shape[1], size[0], size[1]])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  }, { name: 'resize_nearest' });
}
