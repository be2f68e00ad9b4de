import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../../../src/main/compiler/graph/builder';
import { EXTERNAL_ALIGN, emitGraphFile, emitModel, emitWeights, overlayIndex, writeWeightsFile } from '../../../src/main/compiler/graph/emit';
import { linear } from '../../../src/main/compiler/graph/layers';
import { f16ToF32, f32ToF16 } from '../../../src/main/compiler/io/float16';
import { floatToHalf, halfToFloat } from '../../../src/main/compiler/io/dtype';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'emit-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** y = x·Wᵀ + b, computed directly. */
function naiveLinear(x: Float32Array, rows: number, W: Float32Array, out: number, inF: number, b: Float32Array): Float32Array {
  const y = new Float32Array(rows * out);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * W[o * inF + i];
      y[r * out + o] = s;
    }
  return y;
}

function twoLayer(floatType: 'float32' | 'float16', w: MemoryWeights) {
  const g = new GraphBuilder('mlp', floatType);
  const x = g.input('x', floatType, [3, 5]);
  const h = linear(g, w, 'l1', x);
  const act = g.op('Relu', [h]);
  const y = linear(g, w, 'l2', act);
  const z = g.op('Mul', [y, g.scalar(2)]);
  const pooled = g.op('ReduceMean', [z], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  g.output(z, 'y', floatType, [3, 4]);
  g.output(pooled, 'mean', floatType, [3, 1]);
  return g.build();
}

function weights(): MemoryWeights {
  return new MemoryWeights()
    .set('l1.weight', [6, 5], rand(30, 1))
    .set('l1.bias', [6], rand(6, 2))
    .set('l2.weight', [4, 6], rand(24, 3))
    .set('l2.bias', [4], rand(4, 4));
}

function expected(w: MemoryWeights, x: Float32Array): Float32Array {
  const h = naiveLinear(x, 3, w.get('l1.weight')!.readF32(), 6, 5, w.get('l1.bias')!.readF32()).map((v) => Math.max(0, v));
  return naiveLinear(h, 3, w.get('l2.weight')!.readF32(), 4, 6, w.get('l2.bias')!.readF32()).map((v) => v * 2);
}

describe('emit', () => {
  it('writes a model whose weights live in an aligned external file, and onnxruntime runs it exactly', async () => {
    const dir = tmp();
    const w = weights();
    const graph = twoLayer('float32', w);
    const { modelPath, weightsPath } = emitModel(graph, { dir, modelFile: 'mlp.onnx' });
    // 4 weights → 3 full alignment gaps, then the last tensor (l2.bias, 16 bytes)
    expect(statSync(weightsPath).size).toBe(3 * EXTERNAL_ALIGN + 16);
    // graph file holds no weight data
    expect(statSync(modelPath).size).toBeLessThan(4096);
    const x = rand(15, 9);
    const s = await createSession(modelPath);
    expect(s.provider).toBe('cpu');
    expect([...s.inputNames]).toEqual(['x']);
    const out = await s.run({ x: f32Tensor(x, [3, 5]) });
    const want = expected(w, x);
    expect(out.y.dims).toEqual([3, 4]);
    const y = out.y.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThan(1e-6);
    const m = out.mean.data as Float32Array;
    expect(m[1]).toBeCloseTo((want[4] + want[5] + want[6] + want[7]) / 4, 5);
    await s.dispose();
  });

  it('fp16 graphs store half weights and take/return float32 at the session boundary', async () => {
    const dir = tmp();
    const w = weights();
    const graph = twoLayer('float16', w);
    const { modelPath, weightsPath } = emitModel(graph, { dir, modelFile: 'mlp16.onnx' });
    const bytes = readFileSync(weightsPath);
    const stored = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 60));
    // l1.weight transposed [5,6], first element = W[0][0], second = W[1][0]
    const W = w.get('l1.weight')!.readF32();
    expect(stored[0]).toBe(floatToHalf(W[0]));
    expect(stored[1]).toBe(floatToHalf(W[5]));
    const s = await createSession(modelPath);
    const x = rand(15, 9);
    const out = await s.run({ x: f32Tensor(x, [3, 5]) });
    expect(out.y.type).toBe('float32');
    const want = expected(w, x);
    const y = out.y.data as Float32Array;
    for (let i = 0; i < want.length; i++) expect(Math.abs(y[i] - want[i])).toBeLessThan(1e-2);
    await s.dispose();
  });

  it('shares one weights file between graphs and lets an overlay file replace chosen tensors', async () => {
    const dir = tmp();
    const w = weights();
    const g1 = twoLayer('float32', w);
    const index = emitWeights([g1], { dir });
    const base = emitGraphFile(g1, index, { dir, modelFile: 'base.onnx' });
    // overlay: l2.weight replaced by 3·W (as a LoRA merge would), written alone into its own file
    const W2 = w.get('l2.weight')!.readF32().map((v) => v * 3);
    const changed = new MemoryWeights().set('l2.weight', [4, 6], W2);
    const overlay = writeWeightsFile([{ key: 'l2.weight.T', view: changed.get('l2.weight')!, transpose: true }], { dir, file: 'lora.bin', floatType: 'float32' });
    expect(statSync(join(dir, 'lora.bin')).size).toBe(96);
    const merged = emitGraphFile(g1, overlayIndex(index, overlay), { dir, modelFile: 'lora.onnx' });
    const x = rand(15, 11);
    const sBase = await createSession(base);
    const sLora = await createSession(merged);
    const yb = (await sBase.run({ x: f32Tensor(x, [3, 5]) })).y.data as Float32Array;
    const yl = (await sLora.run({ x: f32Tensor(x, [3, 5]) })).y.data as Float32Array;
    const w3 = new MemoryWeights().set('l1.weight', [6, 5], w.get('l1.weight')!.readF32()).set('l1.bias', [6], w.get('l1.bias')!.readF32()).set('l2.weight', [4, 6], W2).set('l2.bias', [4], w.get('l2.bias')!.readF32());
    const want = expected(w3, x);
    for (let i = 0; i < want.length; i++) expect(Math.abs(yl[i] - want[i])).toBeLessThan(1e-5);
    expect(Math.abs(yb[0] - yl[0])).toBeGreaterThan(1e-3);
    await sBase.dispose();
    await sLora.dispose();
  });

  it('refuses an index made for another float type', () => {
    const w = weights();
    const index = emitWeights([twoLayer('float32', w)], { dir: tmp() });
    expect(() => emitGraphFile(twoLayer('float16', w), index, { dir: tmp(), modelFile: 'x.onnx' })).toThrow(/float32/);
  });
});

describe('float16', () => {
  it('matches the scalar round-to-nearest-even converter on edge cases and random values', () => {
    const special = [0, -0, 1, -1, 65504, 65520, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-10, Infinity, -Infinity, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0.1, 1 / 3];
    const values = Float32Array.from([...special, ...Array.from(rand(2000, 5), (v) => v * 300)]);
    const bulk = f32ToF16(values);
    for (let i = 0; i < values.length; i++) expect(bulk[i]).toBe(floatToHalf(values[i]));
    const back = f16ToF32(bulk);
    for (let i = 0; i < values.length; i++) expect(back[i]).toBe(Math.fround(halfToFloat(bulk[i])));
    expect(Number.isNaN(f16ToF32(f32ToF16(Float32Array.of(NaN)))[0])).toBe(true);
  });
});
