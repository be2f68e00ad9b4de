import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TorchCpuGenerator, NOISE_GENERATOR } from '../../../src/main/engine/noise/torch-randn';
import { logF32, sinCosF32 } from '../../../src/main/engine/noise/cephes-f32';
import { parseNpy } from '../../../src/main/compiler/io/npy';
import { noiseHandler } from '../../../src/main/verify/kinds/noise';
import { runHandler } from '../scheduler/verify-helpers';

const DIR = fileURLToPath(new URL('../../fixtures/noise', import.meta.url));

describe('TorchCpuGenerator against the torch CPU randn streams', () => {
  it('every draw of every stream matches within 1e-5 through the noise verify handler', async () => {
    const results = await runHandler(noiseHandler, DIR, DIR);
    const files = JSON.parse(readFileSync(`${DIR}/files.json`, 'utf8')) as { streams: string[] };
    let draws = 0;
    for (const s of files.streams) draws += (JSON.parse(readFileSync(`${DIR}/${s}`, 'utf8')) as { draws: unknown[] }).draws.length;
    expect(results).toHaveLength(draws);
    for (const r of results) {
      expect(r.pass, `${r.what} max_abs=${r.maxAbs}`).toBe(true);
      expect(r.maxAbs).toBe(0); // bit-identical to torch 1.13 AVX2
    }
  });

  it('the scalar path (< 16 values) is bit-exact and carries its cached sample across draws', () => {
    const g = new TorchCpuGenerator(1234);
    const stream = JSON.parse(readFileSync(`${DIR}/seed1234_odd.json`, 'utf8')) as { draws: Array<{ shape: number[]; first8: number[] }> };
    for (const d of stream.draws) {
      const v = g.randn(d.shape);
      if (v.length < 16) expect(Array.from(v.subarray(0, 8))).toEqual(d.first8.slice(0, Math.min(8, v.length)));
    }
  });

  it('seeds act modulo 2^32 in the engine, as in torch', () => {
    const a = new TorchCpuGenerator(5n).randn([32]);
    const b = new TorchCpuGenerator(5n + (1n << 32n)).randn([32]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(new TorchCpuGenerator(6).randn([32])).not.toEqual(a);
  });

  it('names itself for the history record', () => {
    expect(NOISE_GENERATOR).toEqual({ name: 'torch-cpu-randn', version: '1' });
  });
});

describe('float32 Cephes log/sincos (torch AVX2 avx_mathfun)', () => {
  it('stay within a few float32 ulps of exact maths over the Box–Muller ranges', () => {
    let worstLog = 0;
    let worstTrig = 0;
    for (let i = 1; i <= 20000; i++) {
      const u = Math.fround(i / 20000);
      worstLog = Math.max(worstLog, Math.abs(logF32(u) - Math.log(u)));
      const th = Math.fround((2 * Math.PI * i) / 20000);
      const [s, c] = sinCosF32(th);
      worstTrig = Math.max(worstTrig, Math.abs(s - Math.sin(th)), Math.abs(c - Math.cos(th)));
    }
    expect(worstLog).toBeLessThan(2e-6);
    expect(worstTrig).toBeLessThan(3e-7);
    expect(logF32(0)).toBeNaN();
  });
});

describe('the pipeline fixtures draw their LCM step noise from one torch stream', () => {
  it.each(['pipeline_animatediff_lcm', 'pipeline_animatediff_lcm_per_frame'])('%s: step_noise = randn draws of run.generator_seed', (folder) => {
    const dir = fileURLToPath(new URL(`../../fixtures/reference/${folder}`, import.meta.url));
    const files = JSON.parse(readFileSync(`${dir}/files.json`, 'utf8')) as { run: { generator_seed: number } };
    const noise = parseNpy(new Uint8Array(readFileSync(`${dir}/step_noise.npy`)));
    const g = new TorchCpuGenerator(files.run.generator_seed);
    const per = noise.data.length / noise.shape[0];
    for (let s = 0; s < noise.shape[0]; s++) {
      const ours = g.randn(noise.shape.slice(1));
      expect(Array.from(ours)).toEqual(Array.from((noise.data as Float32Array).subarray(s * per, (s + 1) * per)));
    }
  });
});
