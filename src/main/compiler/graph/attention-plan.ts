import type { ProviderName } from '../../../shared/domain/generation';

/**
 * How a graph computes softmax(QKᵀ/√d)V, chosen per execution provider when the graph is compiled.
 *
 * * `fused` — one com.microsoft MultiHeadAttention node. onnxruntime's CPU kernel tiles it (flash attention), so
 *   no B·heads·S·T score tensor ever exists; CUDA and DirectML have fused kernels of their own.
 * * `chunked` — plain MatMul → Softmax → MatMul over slices of the queries, so one slice's scores
 *   (B·heads·rows·T) are the largest tensor, at most `maxScoreBytes`. Used on **WebGPU**: onnxruntime 1.30's
 *   WebGPU MultiHeadAttention takes its flash-attention path for sequences from 32 on, and that shader
 *   steps through the keys by the adapter's subgroup size but always scores 8 keys per step when the subgroup is
 *   8 or smaller — on a 4-wide subgroup (SwiftShader) keys 4–7 of every step are read from workgroup memory that
 *   was never loaded, and the results are wrong (bench/gpu/mha-subgroup-defect.md has the minimal model).
 *   MatMul and Softmax are exact on every adapter, and chunking keeps the memory bound of the fused op.
 */
export type AttentionPlan = { kind: 'fused' } | { kind: 'chunked'; maxScoreBytes: number };

/**
 * Per-slice score budget. 256 MiB keeps a 16-frame 512² CFG self-attention (B = 32, 8 heads, 4096 keys, fp16:
 * 2 MiB of scores per query row) at 128 query rows per slice, 32 slices — against 8 GiB for the whole tensor.
 */
export const DEFAULT_MAX_SCORE_BYTES = 256 * 2 ** 20;

export const FUSED_ATTENTION: AttentionPlan = { kind: 'fused' };

/** The attention the compiler emits for graphs that will run on `provider`. */
export function attentionPlanFor(provider: ProviderName): AttentionPlan {
  return provider === 'webgpu' ? { kind: 'chunked', maxScoreBytes: DEFAULT_MAX_SCORE_BYTES } : FUSED_ATTENTION;
}

/** Query rows per slice so one slice's scores fit the budget; `queries` when everything fits in one. */
export function queryRowsPerSlice(plan: { maxScoreBytes: number }, dims: { batch: number; heads: number; queries: number; keys: number }, elemBytes: number): number {
  const perRow = dims.batch * dims.heads * dims.keys * elemBytes;
  const rows = Math.max(1, Math.floor(plan.maxScoreBytes / perRow));
  if (rows >= dims.queries) return dims.queries;
  // Equal slices (the last one no shorter than needed): ceil(S / ceil(S / rows)).
  const slices = Math.ceil(dims.queries / rows);
  return Math.ceil(dims.queries / slices);
}

/** A short, stable label for cache keys and notes. */
export function attentionLabel(plan: AttentionPlan): string {
  return plan.kind === 'fused' ? 'fused' : `chunked-${plan.maxScoreBytes}`;
}
