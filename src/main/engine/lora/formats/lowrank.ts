import { numel } from '../../../compiler/io/tensor';
import { matmul, scaleInPlace } from '../linalg';
import type { LoraDelta, LoraFormat } from '../types';
import { checkCount, keysOf, makeDelta, ModuleError, type ModuleContext, type ModuleGroup, weightTarget } from './module-group';
import type { TensorView } from '../../../compiler/io/tensor';

/**
 * The maths every plain LoRA shares (kohya, LoCon, PEFT, old attn-procs): ΔW = scale · up.flatten(1) @ down.flatten(1),
 * reshaped to W. For a 3×3 LoCon conv, down is a [r, in, 3, 3] conv and up a [out, r, 1, 1] conv, and the flattened
 * product is exactly the composed kernel. With `lora_mid` (LoCon Tucker: down 1×1, mid r×r×k×k, up 1×1) the
 * effective down is mid ∘ down: down'[s, i, kh, kw] = Σ_j mid[s, j, kh, kw] · down[j, i].
 */
export interface LowRankParts {
  up: TensorView;
  down: TensorView;
  mid?: TensorView;
}

/** Effective down [r, inner] (mid folded in) as a flat row-major matrix. */
function effectiveDown(parts: LowRankParts, g: ModuleGroup): { down: Float32Array; rank: number; inner: number } {
  const rank = parts.down.shape[0];
  const down = parts.down.readF32();
  if (!parts.mid) return { down, rank, inner: down.length / rank };
  const ms = parts.mid.shape;
  if (ms.length !== 4 || ms[1] !== rank) throw new ModuleError(`${g.name}: lora_mid [${ms.join(',')}] does not fit lora_down [${parts.down.shape.join(',')}]`);
  const inCh = down.length / rank; // down is a 1×1 conv [r, in, 1, 1]
  const k = ms[2] * ms[3];
  const mid = parts.mid.readF32();
  const out = new Float32Array(ms[0] * inCh * k);
  for (let s = 0; s < ms[0]; s++) {
    for (let j = 0; j < rank; j++) {
      for (let i = 0; i < inCh; i++) {
        const dv = down[j * inCh + i];
        if (dv === 0) continue;
        const o = (s * inCh + i) * k;
        const mo = (s * rank + j) * k;
        for (let x = 0; x < k; x++) out[o + x] += mid[mo + x] * dv;
      }
    }
  }
  return { down: out, rank: ms[0], inner: inCh * k };
}

export function lowRankDelta(
  g: ModuleGroup,
  ctx: ModuleContext,
  parts: LowRankParts,
  format: LoraFormat,
  scaleFor: (rank: number) => { scale: number; alpha?: number },
): LoraDelta {
  const rank = parts.down.shape[0];
  const out = parts.up.shape[0];
  if (parts.up.shape.length < 2 || numel(parts.up.shape) !== out * rank) {
    throw new ModuleError(`${g.name}: up [${parts.up.shape.join(',')}] and down [${parts.down.shape.join(',')}] disagree on the rank`);
  }
  const inner = (parts.mid ? numel(parts.down.shape) / rank * parts.mid.shape[2] * parts.mid.shape[3] : numel(parts.down.shape) / rank);
  checkCount(g, `up·down product [${out}, ${inner}]`, out * inner, ctx.weightShape);
  const { scale, alpha } = scaleFor(rank);
  const factors = (): { up: Float32Array; down: Float32Array; rank: number; out: number; inner: number } => {
    const d = effectiveDown(parts, g);
    return { up: parts.up.readF32(), down: d.down, rank: d.rank, out, inner: d.inner };
  };
  return makeDelta(
    { target: weightTarget(ctx), kind: 'lowrank', format, module: g.name, keys: keysOf(g), shape: ctx.weightShape, rank, alpha, scale, factors },
    () => {
      const f = factors();
      return scaleInPlace(matmul(f.up, f.down, out, f.rank, f.inner), scale);
    },
  );
}
