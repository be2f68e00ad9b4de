import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { encodeModel } from '../../../src/main/compiler/graph/emit';
import { gelu } from '../../../src/main/compiler/graph/layers';

const dir = mkdtempSync(join(tmpdir(), 'gelu-fusion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Op types of the graph onnxruntime's CPU session actually runs (level 'all', as session.ts creates it). */
async function optimisedOps(model: Uint8Array): Promise<string[]> {
  const file = join(dir, `opt-${Math.random().toString(36).slice(2)}.onnx`);
  await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 3 });
  const text = readFileSync(file).toString('latin1');
  return ['Gelu', 'Erf'].filter((op) => new RegExp(`\\b${op}\\b`).test(text));
}

describe('GELU as onnxruntime fuses it', () => {
  it('runs as one fused Gelu kernel on the CPU (no Erf pass), exact erf GELU', async () => {
    const g = new GraphBuilder('gelu');
    const x = g.input('x', 'float32', [2, 64]);
    g.output(gelu(g, x), 'y', 'float32', [2, 64]);
    const model = encodeModel(g.build(), new Map());
    // The GEGLU feed-forwards' GELU was 5 element-wise passes over the largest activations of the UNet; fused it is one.
    expect(await optimisedOps(model)).toEqual(['Gelu']);
    const xs = Float32Array.from({ length: 128 }, (_, i) => (i - 64) / 8);
    const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
    const y = (await s.run({ x: new ort.Tensor('float32', xs, [2, 64]) })).y.data as Float32Array;
    // reference: x·Φ(x) = ½x(1 + erf(x/√2))
    const erf = (v: number): number => {
      // erf by Simpson integration of e^{-t²} (about 1e-12 accurate at this step)
      const n = 2000;
      const h = v / n;
      let acc = 1 + Math.exp(-v * v);
      for (let i = 1; i < n; i++) acc += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * acc * h) / 3;
    };
    xs.forEach((v, i) => expect(Math.abs(y[i] - 0.5 * v * (1 + erf(v / Math.SQRT2)))).toBeLessThan(2e-6 * Math.max(1, Math.abs(v))));
    await s.release();
  });
});
