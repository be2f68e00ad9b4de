import { Recorder, type Suite } from '../suite';

/** `roofline`: the fp32 MatMul rate every UNet figure is compared with. */
export const rooflineSuite: Suite = async (ctx) => {
  const r = new Recorder('roofline', ctx.log);
  const m = await ctx.matmulRate();
  r.fig('fp32 MatMul rate', 'GMAC/s', m.gmacPerS, `${m.shape}, ${(m.macsPerRun / 1e9).toFixed(1)} GMAC per run, after one warm-up run`);
  r.note('UNet rates elsewhere are divided by the MEDIAN of these runs (both are slowed alike when the CPU is shared); the max is the best this machine showed.');
  return r.result();
};
