import { StudioError } from '../../../shared/errors';
import { attr, GraphBuilder, type GraphIR } from '../graph/builder';
import { gelu, layerNorm, need, quickGelu } from '../graph/layers';
import { plannedLinear, type LoraSlotPlan } from '../graph/lora-slots';
import type { WeightSet } from '../io/tensor';
import type { ClipTextConfig } from './configs';

/**
 * CLIP text transformer (transformers `CLIPTextModel`, the SD1.x text encoder) as an ONNX graph.
 *
 *   input_ids int64 [B, S] → token_embedding + position_embedding[arange(S)]
 *   → L × pre-LN layers (causal self-attention, MLP with quick_gelu/gelu)
 *   → final_layer_norm → last_hidden_state [B, S, H]
 *
 * Facts the graph encodes (all as transformers does them):
 *  - position ids are always arange(S); the `position_ids` buffer some files carry is never read.
 *  - the attention mask is causal only: padding tokens are attended to (SD1.x pads with EOS and relies on it).
 *  - CLIP skip N (N ≥ 1) = final_layer_norm(hidden_states[-N]); N = 1 is last_hidden_state. `penultimate_normed`
 *    (N = 2) is always an output; `clip_skip_normed` is added for another `clipSkip`.
 * Attention is written out (MatMul → +mask → Softmax → MatMul): S = 77 is tiny, and this form runs the same on
 * every execution provider.
 *
 * Weights use transformers names under `text_model.` (the canonical text-encoder layout).
 */

export interface ClipTextGraphOptions {
  batch: number;
  /** Sequence length (default 77; must not exceed max_position_embeddings). */
  seqLen?: number;
  floatType?: 'float32' | 'float16';
  /** Adds output `clip_skip_normed` = final_layer_norm(hidden_states[-clipSkip]) when clipSkip > 2. */
  clipSkip?: number;
  /** Alias of clipSkip (the name some callers use). */
  skipLayers?: number;
  /** Adds output `hidden_states` [L+1, B, S, H] (embeddings, then every layer's output; verification). */
  hiddenStates?: boolean;
  /** Run-time LoRA slots on the attention/MLP Linears (see unet.ts). Absent ⇒ the plain graph. */
  loraSlots?: LoraSlotPlan;
  /**
   * Textual-inversion vectors fed per run: adds input `extra_token_embeddings` [K, H] (K free, ≥ 1) appended to
   * the token table, so id vocab_size + k looks up row k — diffusers' resized table, without recompiling when
   * the embeddings change. Absent ⇒ the plain graph.
   */
  extraTokens?: boolean;
}

export const CLIP_PREFIX = 'text_model';

export function buildClipTextGraph(w: WeightSet, cfg: ClipTextConfig, opts: ClipTextGraphOptions): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const B = opts.batch;
  const S = opts.seqLen ?? 77;
  const H = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const L = cfg.num_hidden_layers;
  const clipSkip = opts.clipSkip ?? opts.skipLayers;
  if (H % heads !== 0) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `CLIP text: hidden size ${H} does not split into ${heads} heads.`, { hidden: H, heads });
  }
  if (S > cfg.max_position_embeddings) {
    throw new StudioError('INVALID_PARAMS', `CLIP text: ${S} tokens exceed the model's ${cfg.max_position_embeddings} positions.`);
  }
  if (clipSkip !== undefined && (!Number.isInteger(clipSkip) || clipSkip < 1 || clipSkip > L)) {
    throw new StudioError('INVALID_PARAMS', `CLIP skip must be between 1 and ${L} for this text encoder, got ${clipSkip}.`);
  }
  const d = H / heads;
  const p = CLIP_PREFIX;
  const g = new GraphBuilder('clip_text', floatType);
  g.metadata.family = 'clip_text';
  g.metadata.config = JSON.stringify(cfg);
  g.metadata.seq_len = String(S);
  const ids = g.input('input_ids', 'int64', [B, S]);

  // embeddings
  const tok = need(w, `${p}.embeddings.token_embedding.weight`);
  const pos = need(w, `${p}.embeddings.position_embedding.weight`);
  checkShape(tok.name, tok.shape, [cfg.vocab_size, H]);
  checkShape(pos.name, pos.shape, [cfg.max_position_embeddings, H]);
  let x = g.scope(`${p}.embeddings`, () => {
    const table = opts.extraTokens
      ? g.op('Concat', [g.weight(tok), g.input('extra_token_embeddings', floatType, ['ti_vectors', H])], { axis: attr.int(0) }, { name: 'extended_table' })
      : g.weight(tok);
    const te = g.op('Gather', [table, ids], { axis: attr.int(0) }, { name: 'token_embedding' });
    const positions = g.i64(Array.from({ length: S }, (_, i) => i));
    const pe = g.op('Gather', [g.weight(pos), positions], { axis: attr.int(0) }, { name: 'position_embedding' });
    return g.op('Add', [te, pe], {}, { name: 'add' });
  });

  // causal mask [S, S]: 0 on and below the diagonal, a large negative above (transformers uses finfo.min)
  const neg = floatType === 'float16' ? -65504 : -3.4028234663852886e38;
  const maskData = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) maskData[i * S + j] = neg;
  const mask = g.constFloat(maskData, [S, S], 'causal_mask');
  const scale = g.scalar(1 / Math.sqrt(d));

  const hidden: string[] = [x];
  for (let i = 0; i < L; i++) {
    const lp = `${p}.encoder.layers.${i}`;
    x = g.scope('', () => {
      const h1 = layerNorm(g, w, `${lp}.layer_norm1`, x, cfg.layer_norm_eps);
      const a = selfAttention(g, w, `${lp}.self_attn`, h1, { B, S, H, heads, d, mask, scale, slots: opts.loraSlots });
      const r1 = g.scope(lp, () => g.op('Add', [x, a], {}, { name: 'residual1' }));
      const h2 = layerNorm(g, w, `${lp}.layer_norm2`, r1, cfg.layer_norm_eps);
      const f1 = plannedLinear(g, w, opts.loraSlots, `${lp}.mlp.fc1`, h2, B * S, { inFeatures: H });
      const act = g.scope(`${lp}.mlp`, () => (cfg.hidden_act === 'gelu' ? gelu(g, f1) : quickGelu(g, f1)));
      const f2 = plannedLinear(g, w, opts.loraSlots, `${lp}.mlp.fc2`, act, B * S, { inFeatures: cfg.intermediate_size });
      return g.scope(lp, () => g.op('Add', [r1, f2], {}, { name: 'residual2' }));
    });
    hidden.push(x);
  }

  const finalLn = (v: string): string => layerNorm(g, w, `${p}.final_layer_norm`, v, cfg.layer_norm_eps);
  g.output(finalLn(x), 'last_hidden_state', floatType, [B, S, H]);
  g.output(finalLn(hidden[L - 1]), 'penultimate_normed', floatType, [B, S, H]);
  if (clipSkip !== undefined && clipSkip > 2) g.output(finalLn(hidden[L + 1 - clipSkip]), 'clip_skip_normed', floatType, [B, S, H]);
  if (opts.hiddenStates) {
    const stacked = g.op('Concat', hidden.map((h) => g.op('Unsqueeze', [h, g.i64([0])], {}, { name: 'hs_unsqueeze' })), { axis: attr.int(0) }, { name: 'hidden_states' });
    g.output(stacked, 'hidden_states', floatType, [L + 1, B, S, H]);
  }
  g.metadata.outputs = 'last_hidden_state,penultimate_normed' + (clipSkip !== undefined && clipSkip > 2 ? `,clip_skip_normed(${clipSkip})` : '');
  return g.build();
}

/** CLIPAttention: q·scale, kᵀ, causal mask, softmax, ·v, out_proj. [B,S,H] → [B,S,H]. */
function selfAttention(
  g: GraphBuilder,
  w: WeightSet,
  prefix: string,
  x: string,
  s: { B: number; S: number; H: number; heads: number; d: number; mask: string; scale: string; slots: LoraSlotPlan | undefined },
): string {
  const lin = (m: string, v: string): string => plannedLinear(g, w, s.slots, `${prefix}.${m}`, v, s.B * s.S, { inFeatures: s.H });
  const q = lin('q_proj', x);
  const k = lin('k_proj', x);
  const v = lin('v_proj', x);
  const o = g.scope(prefix, () => {
    const split = g.i64([0, 0, s.heads, s.d]); // 0 = copy that dim (batch and length stay as they come)
    const qh = g.op('Transpose', [g.op('Reshape', [q, split], {}, { name: 'q_heads' })], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'q_t' });
    const kh = g.op('Transpose', [g.op('Reshape', [k, split], {}, { name: 'k_heads' })], { perm: attr.ints([0, 2, 3, 1]) }, { name: 'k_t' });
    const vh = g.op('Transpose', [g.op('Reshape', [v, split], {}, { name: 'v_heads' })], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'v_t' });
    const scores = g.op('Add', [g.op('MatMul', [g.op('Mul', [qh, s.scale], {}, { name: 'q_scale' }), kh], {}, { name: 'scores' }), s.mask], {}, { name: 'causal' });
    const probs = g.op('Softmax', [scores], { axis: attr.int(-1) }, { name: 'softmax' });
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, vh], {}, { name: 'context' })], { perm: attr.ints([0, 2, 1, 3]) }, { name: 'ctx_t' });
    return g.op('Reshape', [ctx, g.i64([0, 0, s.H])], {}, { name: 'merge_heads' });
  });
  return lin('out_proj', o);
}

function checkShape(name: string, got: number[], want: number[]): void {
  if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `Weight "${name}" has shape [${got.join(', ')}], the text encoder config expects [${want.join(', ')}].`, { key: name, shape: got, expected: want });
  }
}
