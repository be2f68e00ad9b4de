import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { emitModel, encodeModel } from '../../../src/main/compiler/graph/emit';
import { liveDeviceTensors } from '../../../src/main/engine/runtime/device-tensor';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import { webgpuAvailable } from '../webgpu-device';

/**
 * What onnxruntime-node 1.30 allows with tensors kept on the GPU (WebGPU over SwiftShader): the experiment that
 * engine/runtime/device-tensor.ts is built on, first on onnxruntime's own API, then through the engine's wrapper.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const gpu = await webgpuAvailable();

/** y = x + c over float[4]. */
function addGraph(): Uint8Array {
  const g = new GraphBuilder('add');
  const x = g.input('x', 'float32', [4]);
  const c = g.input('c', 'float32', [4]);
  g.output(g.op('Add', [x, c]), 'y', 'float32', [4]);
  return encodeModel(g.build(), new Map());
}

function addModelFile(floatType: 'float32' | 'float16' = 'float32'): string {
  const dir = mkdtempSync(join(tmpdir(), 'devt-'));
  dirs.push(dir);
  const g = new GraphBuilder('add', floatType);
  const x = g.input('x', floatType, [4]);
  const c = g.input('c', floatType, [4]);
  g.output(g.op('Add', [x, c]), 'y', floatType, [4]);
  return emitModel(g.build(), { dir, modelFile: 'add.onnx' }).modelPath;
}

const webgpu = { executionProviders: ['webgpu'] };
const onDevice = { ...webgpu, preferredOutputLocation: 'gpu-buffer' as const };
const host = (v: number[]) => new ort.Tensor('float32', Float32Array.from(v), [4]);
const values = (t: ort.Tensor) => Array.from(t.data as Float32Array);

describe.skipIf(!gpu.usable)('GPU-resident tensors in onnxruntime-node (WebGPU)', () => {
  it('keeps outputs on the device, feeds them to later runs of the same and other sessions, and outlives the session that made them', async () => {
    const step = await ort.InferenceSession.create(addGraph(), onDevice);
    const read = await ort.InferenceSession.create(addGraph(), webgpu); // outputs on the CPU: the way back
    const made = await ort.InferenceSession.create(addGraph(), onDevice);
    const c = (await step.run({ x: host([10, 20, 30, 40]), c: host([0, 0, 0, 0]) })).y;
    expect(c.location).toBe('gpu-buffer');
    let x = (await step.run({ x: host([1, 2, 3, 4]), c: host([0, 0, 0, 0]) })).y;
    for (let i = 0; i < 3; i++) {
      const next = (await step.run({ x, c })).y; // both feeds already on the device
      x.dispose();
      x = next;
    }
    // Read back through a session whose outputs are on the CPU; mixed host and device feeds are fine.
    const y = (await read.run({ x, c: host([0, 0, 0, 0.5]) })).y;
    expect(y.location).toBe('cpu');
    expect(values(y)).toEqual([31, 62, 93, 124.5]);
    // A per-output map works like the string.
    const mapped = await ort.InferenceSession.create(addGraph(), { ...webgpu, preferredOutputLocation: { y: 'gpu-buffer' } });
    const m = (await mapped.run({ x, c })).y;
    expect(m.location).toBe('gpu-buffer');
    m.dispose();
    c.dispose();
    expect(c.location).toBe('none');
    await expect(read.run({ x, c })).rejects.toThrow(/Tensor.location is not supported/);
    x.dispose();
    // A tensor outlives its producer for reading (only its dispose must come first: see the next test).
    const kept = (await made.run({ x: host([1, 1, 1, 1]), c: host([2, 2, 2, 2]) })).y;
    await made.release();
    expect(values((await read.run({ x: kept, c: host([0, 0, 0, 0]) })).y)).toEqual([3, 3, 3, 3]);
    await Promise.all([step.release(), read.release(), mapped.release()]);
  });

  // Two ways to kill the process, each run in a child so the test survives them. If onnxruntime fixes either,
  // these fail, and device-tensor.ts can drop its workaround.
  const hazard = (body: string) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        import ort from 'onnxruntime-node';
        const model = Uint8Array.from(Buffer.from(process.argv[1], 'base64'));
        const opts = { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer' };
        const host = () => new ort.Tensor('float32', new Float32Array(4), [4]);
        const first = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
        const a = await ort.InferenceSession.create(model, opts);
        const t = (await a.run({ x: host(), c: host() })).y;
        console.log('location', t.location);
        ${body}
        console.log('survived');`, Buffer.from(addGraph()).toString('base64')],
      { encoding: 'utf8', env: process.env, timeout: 60_000 },
    );

  it('aborts the whole process on getData()/download of a device tensor, so the engine never reads one back that way', () => {
    const r = hazard('await t.getData();');
    expect(r.stdout).toContain('location gpu-buffer');
    expect(r.stdout).not.toContain('survived');
    expect(r.status).not.toBe(0);
  });

  it('crashes on dispose() of a device tensor fed to another session after its producer was released, so uploads come from sessions that live for the process', () => {
    const r = hazard(`
        await a.release();
        const b = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
        await b.run({ x: t, c: t });
        t.dispose();`);
    expect(r.stdout).toContain('location gpu-buffer');
    expect(r.stdout).not.toContain('survived');
    expect(r.status).not.toBe(0);
  });

  it("the engine's wrapper: constant feeds uploaded once, reused across runs and sessions, counted, refused where wrong", async () => {
    const before = liveDeviceTensors();
    const a = await createSession(addModelFile(), { providers: ['webgpu'] });
    const b = await createSession(addModelFile(), { providers: ['webgpu'] });
    const c = await a.upload('c', f32Tensor(Float32Array.of(1, 2, 3, 4), [4]));
    expect(c).toBeDefined();
    expect(liveDeviceTensors()).toBe(before + 1);
    expect(a.transfers.hostToDevice).toBe(16); // the upload, once
    for (let i = 0; i < 3; i++) {
      const out = await a.run({ x: f32Tensor(Float32Array.of(i, i, i, i), [4]), c: c! });
      expect(Array.from(out.y.data as Float32Array)).toEqual([1 + i, 2 + i, 3 + i, 4 + i]);
    }
    expect(a.transfers).toEqual({ runs: 3, hostToDevice: 16 + 3 * 16, deviceToHost: 3 * 16 });
    await a.dispose();
    expect(Array.from((await b.run({ x: f32Tensor(new Float32Array(4), [4]), c: c! })).y.data as Float32Array)).toEqual([1, 2, 3, 4]);
    // A CPU session would read the buffer handle as data: refused with a sentence.
    const cpu = await createSession(addModelFile(), { providers: ['cpu'] });
    expect(await cpu.upload('c', f32Tensor(new Float32Array(4), [4]))).toBeUndefined();
    await expect(cpu.run({ x: f32Tensor(new Float32Array(4), [4]), c: c! })).rejects.toThrow(/GPU-resident tensor was fed to a CPU session/);
    expect(cpu.transfers).toEqual({ runs: 0, hostToDevice: 0, deviceToHost: 0 });
    c!.dispose();
    c!.dispose(); // idempotent
    expect(liveDeviceTensors()).toBe(before);
    await expect(b.run({ x: f32Tensor(new Float32Array(4), [4]), c: c! })).rejects.toThrow(/used after it was released/);
    // fp16 graphs: the upload converts float32 to the input's type.
    const h = await createSession(addModelFile('float16'), { providers: ['webgpu'] });
    const c16 = await h.upload('c', f32Tensor(Float32Array.of(0.5, 1, 2, 1000), [4]));
    expect(c16!.type).toBe('float16');
    expect(c16!.bytes).toBe(8); // (SwiftShader has no shader-f16: the fp16 Add itself cannot run here)
    c16!.dispose();
    await Promise.all([b.dispose(), cpu.dispose(), h.dispose()]);
    expect(liveDeviceTensors()).toBe(before);
  });
});
