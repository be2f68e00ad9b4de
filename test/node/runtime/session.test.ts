import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { engineInfo } from '../../../src/main/engine/runtime/info';
import { createSession, f32Tensor, i64Tensor, runFailure } from '../../../src/main/engine/runtime/session';
import { StudioError } from '../../../src/shared/errors';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** out = x + w (float) and ids·2 (int64), so float and integer paths are both exercised. */
function model(floatType: 'float32' | 'float16'): string {
  const dir = mkdtempSync(join(tmpdir(), 'sess-'));
  dirs.push(dir);
  const w = new MemoryWeights().set('w', [4], Float32Array.of(1, 2, 3, 4));
  const g = new GraphBuilder('add', floatType);
  const x = g.input('x', floatType, ['batch', 4]);
  const ids = g.input('ids', 'int64', [2]);
  g.output(g.op('Add', [x, g.weight(w.get('w')!)]), 'y', floatType, ['batch', 4]);
  g.output(g.op('Mul', [ids, g.i64([2, 2])]), 'ids2', 'int64', [2]);
  return emitModel(g.build(), { dir, modelFile: 'm.onnx' }).modelPath;
}

describe('createSession', () => {
  it('runs float32 and int64 tensors and accepts any batch (symbolic dims)', async () => {
    const s = await createSession(model('float32'), { intraOpThreads: 1 });
    const out = await s.run({ x: f32Tensor(Float32Array.of(0.5, 0, 0, 0, 1, 1, 1, 1), [2, 4]), ids: i64Tensor(BigInt64Array.of(3n, -4n), [2]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([1.5, 2, 3, 4, 2, 3, 4, 5]);
    expect(out.y.dims).toEqual([2, 4]);
    expect(Array.from(out.ids2.data as BigInt64Array)).toEqual([6n, -8n]);
    await s.dispose();
    await s.dispose(); // idempotent
    await expect(s.run({})).rejects.toThrow(/closed/);
  });

  it('converts float32 to an fp16 graph and back', async () => {
    const s = await createSession(model('float16'));
    const out = await s.run({ x: f32Tensor(Float32Array.of(0.1, 0.2, 0.3, 1000), [1, 4]), ids: i64Tensor(BigInt64Array.of(1n, 2n), [2]) });
    expect(out.y.type).toBe('float32');
    const y = Array.from(out.y.data as Float32Array);
    [1.1, 2.2, 3.3, 1004].forEach((v, i) => expect(Math.abs(y[i] - v)).toBeLessThan(v * 1e-3));
    await s.dispose();
  });

  it('names a missing input', async () => {
    const s = await createSession(model('float32'));
    await expect(s.run({ x: f32Tensor(new Float32Array(4), [1, 4]) })).rejects.toThrow(/input "ids"/);
    await s.dispose();
  });

  it('falls back through providers that cannot start, and says so', async () => {
    const info = await engineInfo();
    const unusable = info.providers.filter((p) => !p.usable).map((p) => p.name);
    expect(unusable.length).toBeGreaterThan(0); // DirectML/CoreML never exist on one OS together
    const messages: string[] = [];
    const s = await createSession(model('float32'), { providers: [...unusable, 'cpu'], onFallback: (m) => messages.push(m) });
    expect(s.provider).toBe('cpu');
    expect(s.fallbacks.length).toBe(unusable.length);
    expect(messages.length).toBe(unusable.length);
    expect(messages[messages.length - 1]).toMatch(/trying CPU/);
    await s.dispose();
    const err = await createSession(model('float32'), { providers: [unusable[0]] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('reports a corrupt model file as such, without trying other providers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sess-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'bad.onnx'), 'not a model');
    const err = await createSession(join(dir, 'bad.onnx'), { providers: ['cpu'] }).catch((e: unknown) => e);
    expect((err as StudioError).code).toBe('CACHE_CORRUPT');
  });
});

describe('engineInfo', () => {
  it('reports the real onnxruntime version and a usable CPU', async () => {
    const info = await engineInfo();
    expect(info.onnxruntimeVersion).toMatch(/^1\.\d+\.\d+/);
    expect(info.providers.find((p) => p.name === 'cpu')?.usable).toBe(true);
    for (const p of info.providers) if (!p.usable) expect(p.reason).toBeTruthy();
    if (process.platform !== 'win32') expect(info.providers.find((p) => p.name === 'dml')?.usable).toBe(false);
  });
});

describe('run failures name what to change', () => {
  it('tells a lost GPU and GPU memory exhaustion apart from other failures', () => {
    const lost = runFailure('[WebGPU] device lost: VK_ERROR_DEVICE_LOST', 'webgpu');
    expect(lost.code).toBe('DEVICE_LOST');
    expect(lost.message).toMatch(/engine restarts/);
    const oom = runFailure('Failed to allocate memory for requested buffer of size 8589934592', 'cuda');
    expect(oom.code).toBe('DEVICE_OUT_OF_MEMORY');
    expect(oom.message).toMatch(/fewer frames, a smaller size, guidance 1/);
    expect(runFailure('Non-zero status code returned while running Conv node', 'webgpu').code).toBe('INFERENCE_FAILED');
    // The CPU has no device to lose: its allocation failures stay inference failures (the worker's own OOM kills it).
    expect(runFailure('Failed to allocate memory', 'cpu').code).toBe('INFERENCE_FAILED');
  });
});
