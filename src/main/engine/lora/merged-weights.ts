import type { TensorView, WeightSet } from '../../compiler/io/tensor';
import type { LoraDelta } from './types';

/**
 * A WeightSet that is the base model with a LoRA stack merged into the tensors the stack touches, and nothing
 * else: untouched names return the base's own TensorView (same object, so graph emitters can tell they are
 * unchanged and keep pointing at the base weights file). Merged tensors are computed when read and not kept,
 * so a full-size stack costs memory only while one tensor is being written.
 */
export interface WeightedDelta {
  delta: LoraDelta;
  multiplier: number;
}

export class MergedWeights implements WeightSet {
  private readonly views = new Map<string, TensorView>();

  constructor(
    readonly base: WeightSet,
    /** Canonical weight name → deltas in stack order. */
    readonly contributions: ReadonlyMap<string, readonly WeightedDelta[]>,
  ) {
    for (const [name, list] of contributions) {
      const b = base.get(name);
      if (!b) throw new Error(`MergedWeights: ${name} is not in the base model`);
      const readF32 = (): Float32Array => mergeOne(b, list);
      this.views.set(name, {
        name,
        dtype: 'F32',
        shape: b.shape,
        readF32,
        readRaw: () => {
          const f = readF32();
          return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
        },
      });
    }
  }

  /** Names whose values differ from the base (what an overlay weights file must hold). */
  touched(): string[] {
    return [...this.views.keys()];
  }

  names(): string[] {
    return this.base.names();
  }
  get(name: string): TensorView | undefined {
    return this.views.get(name) ?? this.base.get(name);
  }
  has(name: string): boolean {
    return this.base.has(name);
  }
}

/** W' = W + Σ mᵢ·ΔWᵢ in stack order, in float32 like the reference. */
export function mergeOne(base: TensorView, list: readonly WeightedDelta[]): Float32Array {
  const out = Float32Array.from(base.readF32());
  for (const { delta, multiplier } of list) {
    if (multiplier === 0) continue;
    const d = delta.delta();
    if (d.length !== out.length) throw new Error(`${delta.module}: ΔW has ${d.length} values, ${base.name} has ${out.length}`);
    for (let i = 0; i < out.length; i++) out[i] += multiplier * d[i];
  }
  return out;
}
