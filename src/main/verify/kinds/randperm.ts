import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { TorchCpuGenerator } from '../../engine/noise/torch-randn';
import { compareArrays } from '../compare';
import { npyF32, npyI64 } from '../run-graph';
import type { Comparison, KindHandler, VerifyContext } from '../types';

/**
 * kind `randperm`: torch's CPU `randperm` on a freshly seeded generator (`randperm_table`), and one generator with
 * randn and randperm interleaved (`interleave.ops`, in order), which proves the two share one word stream and that
 * randperm leaves the cached scalar normal in place. Permutations must be exact; randn values within 1e-5 (the
 * same acceptance as kind `noise`; the note counts bit-identical values).
 */
interface TableEntry {
  seed: number;
  n: number;
  file: string;
}
interface Op {
  op: 'randn' | 'randperm';
  shape?: number[];
  n?: number;
  file: string;
}

function permComparison(ctx: VerifyContext, what: string, ours: number[], ref: BigInt64Array): Comparison {
  const same = ours.length === ref.length && ours.every((v, i) => BigInt(v) === ref[i]);
  return { case: ctx.name, what, maxAbs: same ? 0 : Number.POSITIVE_INFINITY, relL2: same ? 0 : 1, pass: same, note: same ? 'exact' : `got [${ours.slice(0, 12).join(',')}…], expected [${Array.from(ref.slice(0, 12)).join(',')}…]` };
}

async function run(ctx: VerifyContext): Promise<void> {
  const table = ctx.files.randperm_table;
  const inter = ctx.files.interleave as { seed?: number | string; ops?: Op[] } | undefined;
  if (!Array.isArray(table) || !inter || !Array.isArray(inter.ops)) throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json needs randperm_table and interleave.ops.`);
  for (const e of table as TableEntry[]) {
    // Seeds above 2^32 (the fixture has 2^32 + 5) must reach the generator whole: it keeps the low 32 bits.
    const gen = new TorchCpuGenerator(BigInt(e.seed));
    ctx.report(permComparison(ctx, `randperm seed ${e.seed} n ${e.n}`, gen.randperm(e.n), npyI64(join(ctx.dir, e.file)).data));
  }
  const gen = new TorchCpuGenerator(BigInt(inter.seed ?? 0));
  inter.ops.forEach((o, i) => {
    if (o.op === 'randperm') {
      ctx.report(permComparison(ctx, `interleave op${i} randperm(${o.n})`, gen.randperm(o.n ?? 0), npyI64(join(ctx.dir, o.file)).data));
    } else {
      const ours = gen.randn(o.shape ?? []);
      const ref = npyF32(join(ctx.dir, o.file)).data;
      let exact = 0;
      for (let k = 0; k < Math.min(ref.length, ours.length); k++) if (ours[k] === ref[k]) exact++;
      const c = compareArrays(ctx.name, `interleave op${i} randn [${(o.shape ?? []).join('×')}]`, ours, ref, { atol: 1e-5, rtol: 0 });
      ctx.report({ ...c, note: c.note ?? `${exact}/${ref.length} bit-identical` });
    }
  });
}

export const randpermHandler: KindHandler = { kind: 'randperm', noGraph: true, run };
