import { mkdtempSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { compileControlVariants, type ControlVariants } from '../controlnet-variants';
import { controlNetMacs, unetMacs } from '../macs';
import type { ProbeResult } from '../memory-probe';
import { BenchModels, type ModelSource, type UNetShape } from '../model-set';
import { GiB, MiB } from '../peak-rss';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, probeMemory, requireFreeDisk } from './full-size-common';

/**
 * `controlnet` (issue 16): one ControlNet unit per denoising step, in the design that ships (the ControlNet graph,
 * then the UNet + motion graph with residual inputs: two sessions) and in a fused ControlNet + UNet graph built for
 * this suite only (bench/fused-controlnet.ts), same nodes, same weights files. Each design runs in a fresh child
 * process (memory-probe.ts) so its peak RSS covers exactly its sessions and calls: session creation, a warm-up
 * round, then --runs rounds (shipped: ControlNet call, then UNet call, back to back — the pairs the ratio is taken
 * from). At the starter size the two designs' probes alternate twice (shipped, fused, shipped, fused). Also: compile sizes and times, and what switching scale / window / unit count costs each design.
 * Default: the starter model (test-size channels, real hint block) at 2 × 8 frames × 32² (CFG rows), one and two
 * units. --full instead: the real SD1.5 shapes (random weights, as the other full-size suites) at 1 × 16 frames × 32²,
 * one unit, fp32, one probe per design — the ≈ 40–50 % figure of the issue.
 */

export const STARTER_CONTROL_SHAPE: UNetShape = { batch: 2, frames: 8, latentHeight: 32, latentWidth: 32, tokens: 77 };
export const FULL_CONTROL_SHAPE: UNetShape = { batch: 1, frames: 16, latentHeight: 32, latentWidth: 32, tokens: 77 };

export function starterSource(): ModelSource {
  const s = starterModel();
  return { label: 'starter', configs: { unet: s.configs.unet, motion: s.configs.motion, vae: s.configs.vae, text: s.configs.text_encoder }, unet: s.unet, motion: s.motion, vae: s.vae, text: s.text_encoder };
}

/** The analytic MAC ratio (bench/macs.ts), per sample: what the measured ratio would be if every MAC cost the same. */
function analyticRatio(r: Recorder, label: string, models: BenchModels, s: UNetShape): void {
  const shape = { latentHeight: s.latentHeight, latentWidth: s.latentWidth, tokens: s.tokens, frames: s.frames };
  const { unet, motion } = models.source.configs;
  const cn = controlNetMacs(unet, shape);
  const u = unetMacs(unet, motion, shape);
  r.fig(`${label}: analytic MACs, ControlNet ÷ UNet + motion`, '%', (100 * cn) / u.total, `${(cn / 1e9).toFixed(1)} vs ${(u.total / 1e9).toFixed(1)} GMAC per sample (spatial UNet alone ${(u.unet / 1e9).toFixed(1)}: ${((100 * cn) / u.unet).toFixed(0)} %)`);
}

/** As the report's median: the middle value, or the mean of the two middle values. */
function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Shipped design, `units` ControlNet calls then the UNet call per round, in one fresh process. */
function probeShipped(v: ControlVariants, units: number, runs: number): Promise<ProbeResult> {
  return probeMemory({ model: v.unetCtl.path, inputs: v.unetCtl.inputs, calls: runs + 1, before: Array.from({ length: units }, () => ({ model: v.controlnet.path, inputs: v.controlnet.inputs })) });
}

/** The shipped design's figures from its probes (the first round of each is its warm-up); returns its step times, ms. */
function reportShipped(r: Recorder, u: string, shipped: readonly ProbeResult[], units: number): number[] {
  const unetRounds = shipped.flatMap((p) => p.callMs.slice(1));
  const cnRounds = shipped.flatMap((p) => p.callMs.slice(1).map((_, i) => p.before!.reduce((a, b) => a + b.callMs[i + 1], 0)));
  const steps = unetRounds.map((x, i) => x + cnRounds[i]);
  r.fig(`${u}: shipped, session creation`, 's', shipped.map((p) => secs(p.sessionMs + p.before!.reduce((a, b) => a + b.sessionMs, 0))), `UNet with residual inputs + ${units} ControlNet session${units > 1 ? 's' : ''}`);
  r.fig(`${u}: shipped, ControlNet call${units > 1 ? 's' : ''}`, 's', cnRounds.map(secs));
  r.fig(`${u}: shipped, UNet + motion call (residual inputs)`, 's', unetRounds.map(secs));
  r.fig(`${u}: shipped, per step`, 's', steps.map(secs));
  r.fig(`${u}: shipped, peak RSS`, 'GiB', shipped.map((p) => p.peakBytes / GiB), 'fresh process: both sessions, warm-up and timed rounds');
  if (units === 1) r.fig(`${u}: one ControlNet unit ÷ UNet + motion call`, '%', unetRounds.map((x, i) => (100 * cnRounds[i]) / x), 'per pair (ControlNet call, then the UNet call it feeds, back to back); median judged');
  return steps;
}

async function measureSize(r: Recorder, v: ControlVariants, label: string, unitCounts: readonly number[], runs: number, repeats: number): Promise<number> {
  r.fig(`${label}: weights files`, 'MiB', (v.unetWeightsBytes + v.controlnetWeightsBytes) / MiB, `UNet + motion ${(v.unetWeightsBytes / MiB).toFixed(0)} MiB + ControlNet ${(v.controlnetWeightsBytes / MiB).toFixed(0)} MiB, shared by both designs (fused: its graph references the same files)`);
  r.fig(`${label}: ControlNet weights written`, 's', secs(v.controlnetWeightsMs), 'once per ControlNet file, both designs');
  r.fig(`${label}: shipped, graph files`, 'MiB', (v.controlnet.graphBytes + v.unetCtl.graphBytes) / MiB, 'controlnet.onnx + unet_ctl.onnx, one each for any number of units');
  r.fig(`${label}: shipped, graphs built + written`, 's', secs(v.controlnet.compileMs + v.unetCtl.compileMs), 'once per ControlNet file and UNet shape');
  let ratio = NaN;
  for (const units of unitCounts) {
    const u = `${label}, ${units} unit${units > 1 ? 's' : ''}`;
    const f = v.fused(units);
    r.fig(`${u}: fused, new graph for this unit count (built + written)`, 's', secs(f.compileMs), `${(f.graphBytes / MiB).toFixed(1)} MiB graph file; a different unit count needs another`);
    // The designs alternate, shipped then fused, `repeats` times, each probe a fresh process: on a shared machine
    // the load drifts over minutes, and alternating spreads that drift over both.
    const shipped: ProbeResult[] = [];
    const fused: ProbeResult[] = [];
    const load = (what: string): void => r.note(`${u}: load average ${loadavg().map((x) => x.toFixed(1)).join(' / ')} before ${what}`);
    let steps: number[] = [];
    for (let k = 0; k < repeats; k++) {
      load(`shipped probe ${k + 1}`);
      shipped.push(await probeShipped(v, units, runs));
      // The shipped figures are reported before the last fused probe, so a run cut short still has them in its log.
      if (k === repeats - 1) steps = reportShipped(r, u, shipped, units);
      load(`fused probe ${k + 1}`);
      fused.push(await probeMemory({ model: f.path, inputs: f.inputs, calls: runs + 1 }));
    }
    if (units === 1) ratio = median(shipped.flatMap((p) => p.callMs.slice(1).map((x, i) => (100 * p.before![0].callMs[i + 1]) / x)));
    const fusedSteps = fused.flatMap((p) => p.callMs.slice(1));
    r.fig(`${u}: fused, session creation`, 's', fused.map((p) => secs(p.sessionMs)), 'also paid on every change of unit count');
    r.fig(`${u}: fused, per step`, 's', fusedSteps.map(secs));
    r.fig(`${u}: fused, peak RSS`, 'GiB', fused.map((p) => p.peakBytes / GiB), 'fresh process: the one session, warm-up and timed rounds');
    r.fig(`${u}: fused ÷ shipped per step`, '%', (100 * median(fusedSteps)) / median(steps), `medians over ${repeats} alternating probe pairs`);
  }
  r.note(
    `${label}: switching. Shipped: scale is a run-time input, a unit outside its window is not run (its step costs the UNet call alone), ` +
      'and any unit count reuses the loaded sessions (one ControlNet session per distinct file). Fused: scale is a run-time input, but a unit outside its ' +
      'window still costs its ControlNet (scale 0) unless a plain UNet session is also loaded; a new unit count is a new graph and session (figures above).',
  );
  return ratio;
}

export const controlnetSuite: Suite = async (ctx) => {
  const r = new Recorder('controlnet', ctx.log);
  const runs = runsOr(ctx, 3);
  if (!ctx.full) {
    const starter = new BenchModels(starterSource(), mkdtempSync(join(ctx.scratch, 'controlnet-starter-')));
    r.note(`starter: ${describe(STARTER_CONTROL_SHAPE)}`);
    analyticRatio(r, 'starter', starter, STARTER_CONTROL_SHAPE);
    await measureSize(r, await compileControlVariants(starter, STARTER_CONTROL_SHAPE), 'starter', [1, 2], runs, 2);
    r.target('one ControlNet unit ≈ 40–50 % of a UNet call (full size)', 'full-size SD1.5 ControlNet vs UNet + motion, CPU', 50, '<=', '%', undefined, 'not measured: run with --full');
    return r.result();
  }
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK + 2 * GiB);
  const models = ctx.fullSize();
  r.note(`full size: ${describe(FULL_CONTROL_SHAPE)}, fp32, random weights of the real SD1.5 / ControlNet v1.1 shapes`);
  analyticRatio(r, 'full size', models, FULL_CONTROL_SHAPE);
  // One probe per design (a full-size call is tens of seconds to minutes on a shared 2-core machine); --runs sets the pairs.
  const ratio = await measureSize(r, await compileControlVariants(models, FULL_CONTROL_SHAPE), 'full size', [1], runs, 1);
  r.target('one ControlNet unit ≈ 40–50 % of a UNet call (full size)', 'full-size SD1.5 ControlNet vs UNet + motion, CPU', 50, '<=', '%', ratio, 'median of the per-pair ratios');
  return r.result();
};
