import { measureMatMulRate } from '../roofline';
import { Recorder, runsOr, type Suite } from '../suite';

/**
 * `roofline`: the fp32 MatMul rate every UNet figure is compared with (square 2048 products, the reference
 * the other suites re-measure right after their calls), plus other shapes to show where onnxruntime's CPU
 * GEMM does best on this machine: small and large squares, and the tall-skinny products of the UNet's
 * 320-channel layers at 64×64 (4096 tokens × 8 samples).
 */
export const rooflineSuite: Suite = async (ctx) => {
  const r = new Recorder('roofline', ctx.log);
  const m = await ctx.matmulRate();
  r.fig('fp32 MatMul rate (reference)', 'GMAC/s', m.gmacPerS, `${m.shape}, ${(m.macsPerRun / 1e9).toFixed(1)} GMAC per run, after one warm-up run`);
  const runs = runsOr(ctx, 3);
  for (const o of [
    { size: 1024, chain: 8 },
    { size: 4096, chain: 1 },
    { size: 320, chain: 4, rows: 32768 },
    { size: 1280, chain: 4, rows: 2048 },
  ]) {
    const x = await measureMatMulRate({ runs, ...o });
    r.fig(`fp32 MatMul rate, ${x.shape}`, 'GMAC/s', x.gmacPerS, `${(x.macsPerRun / 1e9).toFixed(1)} GMAC per run`);
  }
  r.note('UNet rates are divided by the median of a reference measurement taken right after their calls (both are slowed alike when the CPU is shared).');
  return r.result();
};
