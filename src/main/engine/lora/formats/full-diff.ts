import { numel } from '../../../compiler/io/tensor';
import type { LoraDelta } from '../types';
import { makeDelta, ModuleError, type ModuleContext, type ModuleGroup } from './module-group';

/**
 * Full-weight differences (LyCORIS `full`, ComfyUI `diff`): `diff` is ΔW for `.weight`, `diff_b` for `.bias`.
 * Scale 1: there is no rank.
 */
export const FULL_SUFFIXES = ['diff', 'diff_b'] as const;

export function isFullDiff(g: ModuleGroup): boolean {
  return g.tensors.has('diff') || g.tensors.has('diff_b');
}

export function fullDiffDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  const out: LoraDelta[] = [];
  const pairs: Array<[string, string, number[] | undefined]> = [
    ['diff', 'weight', ctx.weightShape],
    ['diff_b', 'bias', ctx.biasShape],
  ];
  for (const [suffix, param, shape] of pairs) {
    const v = g.tensors.get(suffix);
    if (!v) continue;
    if (!shape) throw new ModuleError(`${g.name}: has ${suffix} but the model's ${ctx.module} has no ${param}`);
    if (numel(v.shape) !== numel(shape)) throw new ModuleError(`${g.name}: ${suffix} [${v.shape.join(',')}] does not fit the model's ${param} [${shape.join(',')}]`);
    out.push(
      makeDelta(
        { target: { component: ctx.component, key: `${ctx.module}.${param}` }, kind: 'full', format: 'full_diff', module: g.name, keys: [v.name], shape, scale: 1 },
        () => Float32Array.from(v.readF32()),
      ),
    );
  }
  if (out.length === 0) throw new ModuleError(`${g.name}: no diff tensors`);
  return out;
}
