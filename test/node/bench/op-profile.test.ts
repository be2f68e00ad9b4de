import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findProfileFile, opClass, profileTable, readProfile } from '../../../bench/op-profile';
import { attr, GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';

const dir = mkdtempSync(join(tmpdir(), 'op-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** conv → GroupNorm as Reshape + InstanceNormalization → MatMul: one op of each class the bench reports. */
function tinyModel(): string {
  const g = new GraphBuilder('tiny_profile');
  const x = g.input('x', 'float32', [2, 8, 16, 16]);
  const w = g.constFloat(Array.from({ length: 8 * 8 * 9 }, (_, i) => Math.sin(i)), [8, 8, 3, 3], 'w');
  const c = g.op('Conv', [x, w], { pads: attr.ints([1, 1, 1, 1]), kernel_shape: attr.ints([3, 3]) });
  const grouped = g.op('Reshape', [c, g.i64([2, 4, -1])]);
  const n = g.op('InstanceNormalization', [grouped, g.constFloat([1, 1, 1, 1], [4]), g.constFloat([0, 0, 0, 0], [4])], { epsilon: attr.float(1e-5) });
  const seq = g.op('Reshape', [n, g.i64([2, 8, 256])]);
  const m = g.op('MatMul', [g.op('Transpose', [seq], { perm: attr.ints([0, 2, 1]) }), g.constFloat(Array.from({ length: 64 }, (_, i) => i / 64), [8, 8], 'm')]);
  g.output(m, 'y', 'float32', [2, 256, 8]);
  return emitModel(g.build(), { dir, modelFile: 'tiny.onnx' }).modelPath;
}

describe('onnxruntime profile summary', () => {
  it('sums the last run per op type and class from a real profiled session', async () => {
    const prefix = join(dir, 'prof');
    const s = await createSession(tinyModel(), { providers: ['cpu'], profileFilePrefix: prefix });
    const x = f32Tensor(Float32Array.from({ length: 2 * 8 * 256 }, (_, i) => Math.cos(i)), [2, 8, 16, 16]);
    await s.run({ x });
    await s.run({ x });
    await s.dispose();
    const p = readProfile(findProfileFile(prefix));
    expect(p.runMs).toHaveLength(2);
    expect(p.kernelMs).toBeGreaterThan(0);
    expect(p.kernelMs).toBeLessThanOrEqual(p.runMs[1]);
    const classes = new Set(p.ops.map((o) => o.cls));
    expect(classes).toContain('convolution');
    expect(classes).toContain('GEMM (MatMul, Gemm)');
    expect(classes).toContain('GroupNorm / LayerNorm');
    // the classes partition the op types
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(p.classes.map((c) => c.ms))).toBeCloseTo(sum(p.ops.map((o) => o.ms)), 6);
    expect(profileTable(p)).toMatch(/\| InstanceNormalization \| GroupNorm \/ LayerNorm \|/);
  });

  it('classes op types as the issue names them and refuses a folder without a profile', () => {
    expect(opClass('NchwcConv')).toBe('convolution');
    expect(opClass('FusedMatMul')).toBe('GEMM (MatMul, Gemm)');
    expect(opClass('ReorderInput')).toMatch(/^layout/);
    expect(opClass('MultiHeadAttention')).toBe('attention');
    expect(opClass('SomethingNew')).toBe('other');
    expect(() => findProfileFile(join(dir, 'none'))).toThrow(/wrote no profile/);
  });
});
