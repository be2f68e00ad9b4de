import type { UNetShape } from '../model-set';
import { GiB, openPeakWindow, rssSplit } from '../peak-rss';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, reportRoofline, requireFreeDisk, unetCall } from './full-size-common';

/**
 * `step`: one UNet + motion call at full SD1.5 size (random weights) at a CPU-sized shape: the 256×256,
 * 16-frame, guidance-1 generation's call. A warm-up call first (arena growth, weight prepacking), then --runs
 * timed calls (default 3).
 */
export const STEP_SHAPE: UNetShape = { batch: 1, frames: 16, latentHeight: 32, latentWidth: 32, tokens: 77 };

export const stepSuite: Suite = async (ctx) => {
  const r = new Recorder('step', ctx.log);
  const s = STEP_SHAPE;
  const runs = runsOr(ctx, 3);
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  await models.compileUNet(s);
  const w = openPeakWindow();
  const ts = performance.now();
  await models.unetSession(s);
  const createMs = performance.now() - ts;
  const warm = await unetCall(models, s, 11);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await unetCall(models, s, 21 + i));
  const peak = w.stop();
  r.fig('session creation', 's', secs(createMs));
  r.fig('warm-up call', 's', secs(warm), describe(s));
  r.fig('UNet+motion call', 's', times.map(secs), describe(s));
  r.fig('peak RSS (session + calls)', 'GiB', peak.peak / GiB, rssSplit(peak));
  await reportRoofline(r, models, s, times, 'step');
  await models.closeUNet(s);
  return r.result();
};
