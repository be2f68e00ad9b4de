import { join } from 'node:path';
import { findProfileFile, readProfile, profileTable } from '../op-profile';
import type { UNetShape } from '../model-set';
import { Recorder, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, quantPlanOption, requireFreeDisk, unetCall } from './full-size-common';
import { STEP_SHAPE } from './step';

/**
 * `profile`: onnxruntime's profiler on the full-size UNet + motion call at the step shape (1 × 16 × 32²; `--full`:
 * 1 × 16 × 64²): a warm-up call, one profiled call, kernel time per op type and per cost class (op-profile.ts).
 * The table goes into the notes (Markdown, ready for bench/README.md). The profiler itself costs a few % per node.
 * `--precision int8` profiles the labelled int8 UNet (graph/quant-plan.ts) instead of fp32.
 */
export const profileSuite: Suite = async (ctx) => {
  const r = new Recorder('profile', ctx.log);
  const s: UNetShape = ctx.full ? { ...STEP_SHAPE, latentHeight: 64, latentWidth: 64 } : STEP_SHAPE;
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const quant = quantPlanOption(ctx);
  const models = ctx.fullSize(quant);
  await models.compileUNet(s);
  const prefix = join(ctx.scratch, 'unet-profile');
  const before = models.sessionOptions;
  models.sessionOptions = { ...before, profileFilePrefix: prefix };
  try {
    await models.unetSession(s);
  } finally {
    models.sessionOptions = before;
  }
  await unetCall(models, s, 11);
  const ms = await unetCall(models, s, 12);
  await models.closeUNet(s); // onnxruntime writes the profile when the session is released
  const p = readProfile(findProfileFile(prefix));
  r.fig('profiled UNet+motion call', 's', secs(ms), `${describe(s)}, ${quant === 'int8' ? 'int8 plan' : 'fp32'}`);
  r.fig('kernel time (sum over nodes)', 's', secs(p.kernelMs), `${((100 * p.kernelMs) / p.runMs[p.runMs.length - 1]).toFixed(1)} % of the profiled model_run`);
  for (const c of p.classes) r.fig(`class: ${c.cls}`, '%', (100 * c.ms) / p.kernelMs, `${secs(c.ms).toFixed(2)} s`);
  for (const o of p.ops.slice(0, 12)) r.fig(`op: ${o.op}`, '%', (100 * o.ms) / p.kernelMs, `${secs(o.ms).toFixed(2)} s over ${o.nodes} nodes`);
  r.note(`op-type table (${describe(s)}):\n${profileTable(p)}`);
  return r.result();
};
