import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { groupNorm } from '../../../src/main/compiler/graph/layers';
import { normPlanFor, type NormPlan } from '../../../src/main/compiler/graph/norm-plan';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';

/** The GroupNorm plans (norm-plan.ts) on the CPU; their WebGPU behaviour is test/gpu/group-norm.test.ts. */

const workDir = mkdtempSync(join(tmpdir(), 'norm-plan-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const SHAPE = [2, 6, 3, 3];
const GROUPS = 3;

function graph(plan: NormPlan): GraphIR {
  const g = new GraphBuilder(`gn_${plan}`, 'float32', undefined, 'native', plan);
  const x = g.input('x', 'float32', SHAPE);
  g.output(groupNorm(g, new MemoryWeights(), 'gn', x, SHAPE, GROUPS, 1e-5, { affine: false }), 'y', 'float32', SHAPE);
  return g.build();
}

/** Max |Δ| of the plan's CPU result to float64 GroupNorm, on groups with means 0…25 and spreads 0.3…1. */
async function maxError(plan: NormPlan): Promise<number> {
  const [n, c, h, w] = SHAPE;
  const per = (c / GROUPS) * h * w;
  const x = Float32Array.from({ length: n * c * h * w }, (_, i) => {
    const group = Math.floor(i / per);
    return group * 5 + (group % 3 === 0 ? 0.3 : 1) * Math.sin(i * 1.7);
  });
  const { modelPath } = emitModel(graph(plan), { dir: workDir, modelFile: `${plan}.onnx` });
  const s = await createSession(modelPath, { providers: ['cpu'] });
  let worst = 0;
  try {
    const y = (await s.run({ x: f32Tensor(x, SHAPE) })).y.data as Float32Array;
    for (let gi = 0; gi < x.length / per; gi++) {
      const v = Array.from(x.subarray(gi * per, (gi + 1) * per));
      const mean = v.reduce((a, b) => a + b, 0) / per;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / per;
      v.forEach((xv, k) => (worst = Math.max(worst, Math.abs(y[gi * per + k] - (xv - mean) / Math.sqrt(variance + 1e-5)))));
    }
  } finally {
    await s.dispose();
  }
  return worst;
}

describe('GroupNorm per provider', () => {
  it('is InstanceNormalization except on WebGPU, which gets the two-pass form', () => {
    expect(normPlanFor('cpu')).toBe('instance');
    expect(normPlanFor('cuda')).toBe('instance');
    expect(normPlanFor('webgpu')).toBe('two_pass');
    const ops = (plan: NormPlan): string[] => graph(plan).nodes.map((node) => node.opType);
    expect(ops('instance')).toContain('InstanceNormalization');
    expect(ops('two_pass')).not.toContain('InstanceNormalization');
    expect(ops('two_pass').filter((o) => o === 'ReduceMean')).toHaveLength(2);
  });

  it('both forms agree with float64 on the CPU', async () => {
    expect(await maxError('instance')).toBeLessThan(2e-5);
    expect(await maxError('two_pass')).toBeLessThan(2e-5);
  });
});
