import { GiB, MiB, openPeakWindow, rssSplit } from '../peak-rss';
import type { UNetShape } from '../model-set';
import { Recorder, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, reportRoofline, requireFreeDisk, unetCall } from './full-size-common';

/**
 * `compile` (issue 4 item 7): the real SD1.5 UNet + AnimateLCM motion-adapter graph from random weights with
 * exactly the manifest shapes: build time, file sizes, session creation, a UNet call at a small latent, peak RSS.
 * Multi-minute on 2 cores, so one run (--runs is ignored here).
 */
export const COMPILE_SHAPE: UNetShape = { batch: 2, frames: 8, latentHeight: 32, latentWidth: 32, tokens: 77 };

export const compileSuite: Suite = async (ctx) => {
  const r = new Recorder('compile', ctx.log);
  const s = COMPILE_SHAPE;
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  let w = openPeakWindow();
  const c = await models.compileUNet(s);
  const compileRss = w.stop();
  if (c.reused || c.writeMs < 1000) r.note('the weights file was already written by an earlier suite in this process: the write time below covers the graph file only');
  r.fig('graph build (JS, no weight bytes)', 's', secs(c.buildMs), `SD1.5 UNet + 21 motion modules, ${describe(s)}`);
  r.fig('weights + graph + manifest written', 's', secs(c.writeMs), 'random weights generated tensor by tensor while writing');
  r.fig('weights file (fp32, 64 KiB-aligned)', 'GB', c.weightsBytes / 1e9);
  r.fig('graph file (.onnx, external data)', 'MiB', c.graphBytes / MiB);
  r.fig('peak RSS while compiling', 'GiB', compileRss.peak / GiB, compileRss.perWindow ? undefined : 'process-lifetime peak (no per-window reset on this OS)');

  w = openPeakWindow();
  const t0 = performance.now();
  await models.unetSession(s);
  r.fig('session creation', 's', secs(performance.now() - t0), 'mmapped external data, graphOptimizationLevel all');
  const first = await unetCall(models, s, 1);
  const run = w.stop();
  r.fig('one UNet+motion call (first of the session)', 's', secs(first), describe(s));
  r.fig('peak RSS: session creation + call', 'GiB', run.peak / GiB, `RSS before the session ${(w.startRss / GiB).toFixed(2)} GiB; ${rssSplit(run)}`);
  await reportRoofline(r, models, s, [first], 'compile-shape call');
  r.note('one run: compiling writes a 5.3 GB weights file and a call takes minutes on a shared 2-core machine; the step suite times repeated calls');
  await models.closeUNet(s);
  return r.result();
};
