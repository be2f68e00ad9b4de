import { numel } from '../../../compiler/io/tensor';
import { hadamardInPlace, matmul, scaleInPlace, tuckerRebuild } from '../linalg';
import type { LoraDelta } from '../types';
import { checkCount, keysOf, makeDelta, ModuleError, need, scalar, type ModuleContext, type ModuleGroup, weightTarget } from './module-group';

/**
 * LyCORIS LoHa: ΔW = (w1_a @ w1_b) ⊙ (w2_a @ w2_b) · alpha / r, r = hada_w1_b.shape[0] (missing alpha: alpha = r).
 * Linear: w*_a [out, r], w*_b [r, in]; flattened conv: w*_b [r, in·kh·kw]. Tucker conv (hada_t1/hada_t2
 * [r, r, kh, kw]): w*_a [r, out], w*_b [r, in], factor = einsum('i j k l, j r, i p -> p r k l', t, w_b, w_a).
 */
export const LOHA_SUFFIXES = ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b', 'hada_t1', 'hada_t2', 'alpha'] as const;

export function isLoha(g: ModuleGroup): boolean {
  return g.tensors.has('hada_w1_a') || g.tensors.has('hada_w1_b');
}

function factor(g: ModuleGroup, which: 1 | 2, weightShape: readonly number[]): Float32Array {
  const a = need(g, `hada_w${which}_a`);
  const b = need(g, `hada_w${which}_b`);
  const t = g.tensors.get(`hada_t${which}`);
  if (t) {
    // Tucker: a [r, out], b [r, in]
    const out = a.shape[1];
    const inn = b.shape[1];
    if (t.shape.length !== 4) throw new ModuleError(`${g.name}: hada_t${which} [${t.shape.join(',')}] is not 4-D`);
    return tuckerRebuild(t.readF32(), t.shape, b.readF32(), inn, a.readF32(), out);
  }
  const r = b.shape[0];
  const out = a.shape[0];
  if (a.shape[1] !== r) throw new ModuleError(`${g.name}: hada_w${which}_a [${a.shape.join(',')}] and hada_w${which}_b [${b.shape.join(',')}] disagree on the rank`);
  const inner = numel(b.shape) / r;
  checkCount(g, `hada_w${which} product`, out * inner, weightShape);
  return matmul(a.readF32(), b.readF32(), out, r, inner);
}

export function lohaDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  const rank = need(g, 'hada_w1_b').shape[0];
  const stored = scalar(g.tensors.get('alpha'));
  const alpha = stored === undefined || stored === 0 ? rank : stored;
  const scale = alpha / rank;
  for (const s of ['hada_w1_a', 'hada_w2_a', 'hada_w2_b']) need(g, s);
  return [
    makeDelta({ target: weightTarget(ctx), kind: 'loha', format: 'lycoris_loha', module: g.name, keys: keysOf(g), shape: ctx.weightShape, rank, alpha, scale }, () => {
      const w1 = factor(g, 1, ctx.weightShape);
      const w2 = factor(g, 2, ctx.weightShape);
      checkCount(g, 'Hadamard product', w1.length, ctx.weightShape);
      return scaleInPlace(hadamardInPlace(w1, w2), scale);
    }),
  ];
}
