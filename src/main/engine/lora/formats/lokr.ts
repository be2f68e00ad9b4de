import { numel } from '../../../compiler/io/tensor';
import { kronWeight, matmul, scaleInPlace, tuckerRebuild } from '../linalg';
import type { LoraDelta } from '../types';
import { checkCount, keysOf, makeDelta, ModuleError, scalar, type ModuleContext, type ModuleGroup, weightTarget } from './module-group';
import type { TensorView } from '../../../compiler/io/tensor';

/**
 * LyCORIS LoKr: ΔW = kron(W1, W2) · scale, reshaped to W. W1 = lokr_w1 or lokr_w1_a @ lokr_w1_b; W2 = lokr_w2, or
 * lokr_w2_a @ lokr_w2_b, or the Tucker form with lokr_t2. W1 is [a, c]; W2 is [b, d·kh·kw] (conv w2_b is stored
 * flattened), with out = a·b and in = c·d. scale = alpha / dim where dim is the inner size of the decomposed
 * factor (w2's when w2 is decomposed, else w1's); when neither is decomposed the scale is 1 whatever alpha says
 * (LyCORIS stores alpha = lora_dim then; ComfyUI uses 1).
 */
export const LOKR_SUFFIXES = ['lokr_w1', 'lokr_w1_a', 'lokr_w1_b', 'lokr_w2', 'lokr_w2_a', 'lokr_w2_b', 'lokr_t2', 'alpha'] as const;

export function isLokr(g: ModuleGroup): boolean {
  return g.tensors.has('lokr_w1') || g.tensors.has('lokr_w1_a') || g.tensors.has('lokr_w2') || g.tensors.has('lokr_w2_a');
}

interface Factor {
  rows: number;
  /** Everything after the first dimension, flattened (c for W1; d·kh·kw for W2). */
  cols: number;
  read: () => Float32Array;
  /** Inner (rank) dimension when decomposed. */
  dim?: number;
}

function decomposed(g: ModuleGroup, a: TensorView, b: TensorView, which: string): Factor {
  const r = b.shape[0];
  if (a.shape.length !== 2 || a.shape[1] !== r) throw new ModuleError(`${g.name}: lokr_${which}_a [${a.shape.join(',')}] and lokr_${which}_b [${b.shape.join(',')}] disagree on the rank`);
  const rows = a.shape[0];
  const cols = numel(b.shape) / r;
  return { rows, cols, dim: r, read: () => matmul(a.readF32(), b.readF32(), rows, r, cols) };
}

function factorW1(g: ModuleGroup): Factor {
  const full = g.tensors.get('lokr_w1');
  if (full) return { rows: full.shape[0], cols: numel(full.shape) / full.shape[0], read: () => full.readF32() };
  const a = g.tensors.get('lokr_w1_a');
  const b = g.tensors.get('lokr_w1_b');
  if (!a || !b) throw new ModuleError(`${g.name}: neither lokr_w1 nor lokr_w1_a + lokr_w1_b`);
  return decomposed(g, a, b, 'w1');
}

function factorW2(g: ModuleGroup): Factor {
  const full = g.tensors.get('lokr_w2');
  if (full) return { rows: full.shape[0], cols: numel(full.shape) / full.shape[0], read: () => full.readF32() };
  const a = g.tensors.get('lokr_w2_a');
  const b = g.tensors.get('lokr_w2_b');
  if (!a || !b) throw new ModuleError(`${g.name}: neither lokr_w2 nor lokr_w2_a + lokr_w2_b`);
  const t = g.tensors.get('lokr_t2');
  if (t) {
    // Tucker: a [r, b_out], b [r, d], t [r, r, kh, kw] → W2 [b_out, d, kh, kw]
    if (t.shape.length !== 4) throw new ModuleError(`${g.name}: lokr_t2 [${t.shape.join(',')}] is not 4-D`);
    const rows = a.shape[1];
    const d = b.shape[1];
    return { rows, cols: d * t.shape[2] * t.shape[3], dim: b.shape[0], read: () => tuckerRebuild(t.readF32(), t.shape, b.readF32(), d, a.readF32(), rows) };
  }
  return decomposed(g, a, b, 'w2');
}

export function lokrDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  if (g.tensors.has('lokr_t1')) throw new ModuleError(`${g.name}: lokr_t1 (a Tucker-decomposed w1) is not supported`);
  const w1 = factorW1(g);
  const w2 = factorW2(g);
  const ws = ctx.weightShape;
  const out = ws[0];
  const inn = ws.length > 1 ? ws[1] : 1;
  const rest = numel(ws) / (out * inn);
  const a = w1.rows;
  const c = w1.cols;
  const b = w2.rows;
  if (out !== a * b || inn % c !== 0 || w2.cols !== (inn / c) * rest) {
    throw new ModuleError(`${g.name}: kron of W1 [${a},${c}] and W2 [${b},${w2.cols}] does not make the model's weight [${ws.join(',')}]`);
  }
  const d = inn / c;
  const dim = w2.dim ?? w1.dim;
  const stored = scalar(g.tensors.get('alpha'));
  const alpha = stored === undefined || stored === 0 ? dim : stored;
  const scale = dim === undefined || alpha === undefined ? 1 : alpha / dim;
  return [
    makeDelta({ target: weightTarget(ctx), kind: 'lokr', format: 'lycoris_lokr', module: g.name, keys: keysOf(g), shape: ws, rank: dim, alpha: stored, scale }, () => {
      const k = kronWeight(w1.read(), a, c, w2.read(), b, d, rest);
      checkCount(g, 'Kronecker product', k.length, ws);
      return scaleInPlace(k, scale);
    }),
  ];
}
