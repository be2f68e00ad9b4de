import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schedulerLcmHandler } from '../../../src/main/verify/kinds/scheduler-lcm';
import { FP16_MAX_REL_L2, runVerify, verifySummary } from '../../../src/main/verify/run';
import type { KindHandler } from '../../../src/main/verify/types';
import { cli } from '../cli-in-process';

const REF = join(__dirname, '../../fixtures/reference');

/** A handler that reports what it was given, so the target's way from the CLI to the kinds is visible. */
function probe(relL2: number): KindHandler & { seen: string[] } {
  const seen: string[] = [];
  return {
    kind: 'clip_text',
    seen,
    run(ctx) {
      seen.push(`${ctx.target.provider}/${ctx.target.precision}`);
      ctx.report({ case: ctx.name, what: 'x', maxAbs: relL2, relL2, pass: relL2 <= 1e-4 });
      return Promise.resolve();
    },
  };
}

describe('verify target (provider, precision)', () => {
  it('defaults to the CPU in fp32 and hands the target to every kind', async () => {
    const h = probe(0);
    await runVerify(join(REF, 'clip_text'), { handlers: [h] });
    await runVerify(join(REF, 'clip_text'), { handlers: [h], target: { provider: 'webgpu', precision: 'float16' } });
    expect(h.seen).toEqual(['cpu/float32', 'webgpu/float16']);
  });

  it('judges fp16 by relative L2, fp32 by the CPU tolerance', async () => {
    const fp16 = { provider: 'cpu' as const, precision: 'float16' as const };
    const within = await runVerify(join(REF, 'clip_text'), { handlers: [probe(FP16_MAX_REL_L2 / 2)], target: fp16 });
    expect(within.comparisons[0].pass).toBe(true);
    expect(within.comparisons[0].note).toMatch(/fp16/);
    const beyond = await runVerify(join(REF, 'clip_text'), { handlers: [probe(FP16_MAX_REL_L2 * 2)], target: fp16 });
    expect(beyond.comparisons[0].pass).toBe(false);
    const fp32 = await runVerify(join(REF, 'clip_text'), { handlers: [probe(FP16_MAX_REL_L2 / 2)] });
    expect(fp32.comparisons[0].pass).toBe(false);
  });

  it('rejects an unknown provider or precision with the usage', async () => {
    const bad = await cli('verify', join(REF, 'clip_text'), '--provider', 'tpu');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--provider must be one of cpu, cuda, dml, coreml, webgpu/);
    const badP = await cli('verify', join(REF, 'clip_text'), '--precision', 'fp8');
    expect(badP.code).toBe(2);
    expect(badP.err).toMatch(/--precision must be fp32, fp16 or int8/);
    // int8 is onnxruntime's CPU kernels: asking for it on a GPU provider is a usage error, not a silent CPU run.
    const int8Gpu = await cli('verify', join(REF, 'clip_text'), '--provider', 'webgpu', '--precision', 'int8');
    expect(int8Gpu.code).toBe(2);
    expect(int8Gpu.err).toMatch(/--precision int8 is a CPU option/);
  });

  it('runs int8 on the CPU and names it in the summary', async () => {
    const r = await cli('verify', join(REF, 'unet_motion'), '--precision', 'int8');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\(int8: rel_l2 ≤ 0\.25\)/);
    expect(r.out).toMatch(/^OK: 1 case\(s\), 6 comparison\(s\), 0 failure\(s\) on cpu, int8 in /m);
  });

  it('runs the model kinds on the named provider only, and says so', async () => {
    const r = await cli('verify', join(REF, 'clip_text'), '--provider', 'cpu', '--precision', 'fp32');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK: 1 case\(s\), 6 comparison\(s\), 0 failure\(s\) in /m);
  });

  it('says "CPU (no graph)" for kinds that build no graph, not the target', async () => {
    const alone = await cli('verify', join(REF, 'scheduler_lcm'), '--provider', 'webgpu');
    expect(alone.code).toBe(0);
    expect(alone.out).toMatch(/^OK: \d+ case\(s\), \d+ comparison\(s\), 0 failure\(s\) on CPU \(no graph\) in /m);
    expect(alone.out).not.toMatch(/on webgpu/);
    const webgpu = { provider: 'webgpu' as const, precision: 'float32' as const };
    const mixed = await runVerify(REF, { kinds: ['clip_text', 'scheduler_lcm'], handlers: [probe(0), schedulerLcmHandler], target: webgpu });
    expect(mixed.noGraph.length).toBeGreaterThan(0);
    expect(mixed.noGraph.every((c) => c.startsWith('scheduler_lcm/'))).toBe(true);
    expect(verifySummary(mixed, webgpu, 1)).toMatch(/^OK: \d+ case\(s\), \d+ comparison\(s\), 0 failure\(s\) on webgpu, fp32; CPU \(no graph\): scheduler_lcm\/linear, .* in 1\.0 s$/);
    // The CPU reference run names no target at all.
    expect(verifySummary(await runVerify(join(REF, 'scheduler_lcm')), { provider: 'cpu', precision: 'float32' }, 1)).toMatch(/failure\(s\) in 1\.0 s$/);
  });
});
