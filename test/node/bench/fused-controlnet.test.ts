import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileControlVariants, timeControlPairs } from '../../../bench/controlnet-variants';
import { BenchModels, noiseArray } from '../../../bench/model-set';
import { starterSource } from '../../../bench/suites/controlnet';
import { createSession, f32Tensor, type HostTensor } from '../../../src/main/engine/runtime/session';
import { webgpuAvailable } from '../webgpu-device';

// The controlnet bench compares the shipped design (two sessions) with a fused graph; the comparison only means
// something if the fused graph computes what the two sessions compute, every unit included.
const root = mkdtempSync(join(tmpdir(), 'fused-controlnet-'));
const gpu = await webgpuAvailable();
afterAll(() => rmSync(root, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('bench: the fused ControlNet + UNet graph', () => {
  it('gives the noise prediction of ControlNet sessions feeding the UNet with residual inputs, for one and two units', async () => {
    const shape = { batch: 1, frames: 2, latentHeight: 16, latentWidth: 16, tokens: 77 };
    const models = new BenchModels(starterSource(), root);
    const v = await compileControlVariants(models, shape);
    const rows = shape.batch * shape.frames;
    const ctxDim = models.contextDim;
    const common: Record<string, HostTensor> = {
      sample: f32Tensor(noiseArray(rows * 4 * 16 * 16, 1), [rows, 4, 16, 16]),
      timestep: f32Tensor(Float32Array.of(421), [1]),
      encoder_hidden_states: f32Tensor(noiseArray(rows * 77 * ctxDim, 2), [rows, 77, ctxDim]),
    };
    const cond = (seed: number): HostTensor => f32Tensor(noiseArray(rows * 3 * 128 * 128, seed).map((x) => Math.abs(x)), [rows, 3, 128, 128]);
    const units = [
      { cond: cond(3), scale: 0.7 },
      { cond: cond(4), scale: 1.3 },
    ];
    const cn = await createSession(v.controlnet.path, { providers: ['cpu'] });
    const unet = await createSession(v.unetCtl.path, { providers: ['cpu'] });
    const residualsOf = async (k: number): Promise<Record<string, HostTensor>> =>
      (await cn.run({ ...common, controlnet_cond: units[k].cond, conditioning_scale: f32Tensor(Float32Array.of(units[k].scale), [1]) })) as Record<string, HostTensor>;
    const r0 = await residualsOf(0);
    const r1 = await residualsOf(1);
    const sum: Record<string, HostTensor> = {};
    for (const name of Object.keys(r0)) {
      const a = r0[name].data as Float32Array;
      const b = r1[name].data as Float32Array;
      sum[name] = f32Tensor(a.map((x, i) => x + b[i]), [...r0[name].dims]);
    }
    const zeros = Object.fromEntries(Object.entries(r0).map(([n, t]) => [n, f32Tensor(new Float32Array(t.data.length), [...t.dims])]));
    const shipped1 = (await unet.run({ ...common, ...r0 })).noise_pred.data as Float32Array;
    const shipped2 = (await unet.run({ ...common, ...sum })).noise_pred.data as Float32Array;
    const plain = (await unet.run({ ...common, ...zeros })).noise_pred.data as Float32Array;
    await cn.dispose();
    await unet.dispose();

    for (const [n, expected] of [
      [1, shipped1],
      [2, shipped2],
    ] as const) {
      const f = v.fused(n);
      expect(f.inputs.filter((i) => /residual/.test(i.name))).toEqual([]);
      const s = await createSession(f.path, { providers: ['cpu'] });
      const feeds: Record<string, HostTensor> = { ...common };
      for (let k = 0; k < n; k++) {
        feeds[`cn${k}/controlnet_cond`] = units[k].cond;
        feeds[`cn${k}/conditioning_scale`] = f32Tensor(Float32Array.of(units[k].scale), [1]);
      }
      const out = (await s.run(feeds)).noise_pred.data as Float32Array;
      await s.dispose();
      const scale = Math.max(...expected.map(Math.abs));
      expect(maxAbsDiff(out, expected)).toBeLessThanOrEqual(1e-5 * scale);
      // the control shows: neither design is the plain UNet
      expect(maxAbsDiff(out, plain)).toBeGreaterThan(1e-3 * scale);
    }
    expect(maxAbsDiff(shipped1, shipped2)).toBeGreaterThan(1e-3 * Math.max(...shipped1.map(Math.abs)));

    // The gpu suite's in-process timing of the same pair (warm-up round not counted).
    const pairs = await timeControlPairs(v, 'cpu', 2);
    expect(pairs.controlnetMs).toHaveLength(2);
    expect(pairs.unetMs).toHaveLength(2);
    expect(Math.min(...pairs.controlnetMs, ...pairs.unetMs)).toBeGreaterThan(0);
  }, 180_000);

  it.skipIf(!gpu.usable)(`the gpu suite's ControlNet pair compiles for WebGPU (its attention plan) and runs there ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, async () => {
    const models = new BenchModels(starterSource(), join(root, 'webgpu'), { provider: 'webgpu', precision: 'float32' });
    const v = await compileControlVariants(models, { batch: 1, frames: 2, latentHeight: 8, latentWidth: 8, tokens: 77 });
    const pairs = await timeControlPairs(v, 'webgpu', 1);
    expect(pairs.controlnetMs).toHaveLength(1);
    expect(pairs.unetMs).toHaveLength(1);
  }, 600_000);
});
