import { CPU_SAMPLE_CHUNKS } from '../../src/main/compiler/graph/sample-chunks';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { DEFAULT_CONTEXT_WINDOWS } from '../../src/shared/domain/context-windows';
import { linearFit } from '../linearity';
import { BenchModels, type UNetShape } from '../model-set';
import { median } from '../report';
import { Recorder, runsOr, type SuiteContext, type Suite } from '../suite';
import { FULL_SIZE_DISK, probeUNetMemory, requireFreeDisk } from './full-size-common';

/**
 * `long-clip` (issue 17 item 6): one UNet + motion call with FreeNoise context windows (the studio default: 16
 * frames, stride 4, pyramid), batch 1 × 32×32 latent, each in a fresh child process (memory-probe.ts: session,
 * one warm-up call, one timed call, VmHWM). The claim is that cost and memory grow linearly with frames: spatial
 * layers see each frame once and the windows' attentions run four windows at a time, so both are a + b·F
 * (bench/linearity.ts says why "linear" means affine here). Judged, per model:
 *  - time and peak RSS: every point within 10 % of the least-squares line a + b·F;
 *  - time per frame at the two longest clips within 10 % (what a creator sees; the intercept moves it a little),
 *    as the median over repetitions of the ratio inside each repetition.
 * Repetitions alternate the order of the frame counts (ascending, then descending, …) so a change in the shared
 * machine's load falls on all of them; the median is judged. Starter model: 16 / 32 / 64 / 128 frames, 3 runs
 * (--runs), so one run slowed by the machine's load does not move the median. Full size (--full): 16 / 64 / 128
 * frames, 1 run; the line's value at 256 frames is reported. Every graph has the engine's CPU sample chunks.
 */

// The lengths, 16 / 64 / 128, plus 32 on the starter. At 16 frames (= the context length) the studio runs
// the plain motion module (one window, no window groups), so that point is a different graph: it is measured
// because a creator's 16-frame clip runs it. Every graph uses the engine's CPU plan (sample chunks): it is what
// lets 128 full-size frames fit this machine (without it, 32 frames passed 11.6 GB).
const STARTER_FRAMES = [16, 32, 64, 128];
const FULL_FRAMES = [16, 64, 128];

interface Point {
  frames: number;
  seconds: number[];
  peakBytes: number[];
}

async function measure(r: Recorder, log: (line: string) => void, models: BenchModels, label: string, frameCounts: number[], runs: number): Promise<void> {
  const points: Point[] = frameCounts.map((frames) => ({ frames, seconds: [], peakBytes: [] }));
  for (let run = 0; run < runs; run++) {
    const order = run % 2 === 0 ? points : [...points].reverse();
    for (const p of order) {
      const s: UNetShape = { batch: 1, frames: p.frames, latentHeight: 32, latentWidth: 32, tokens: 77, windows: { ...DEFAULT_CONTEXT_WINDOWS }, chunkRows: CPU_SAMPLE_CHUNKS.maxRows };
      const probe = await probeUNetMemory(models, s, 2);
      p.seconds.push(probe.callMs[probe.callMs.length - 1] / 1000);
      p.peakBytes.push(probe.peakBytes);
      log(`  ${label}, ${p.frames} frames, run ${run + 1}: ${(p.seconds[p.seconds.length - 1]).toFixed(2)} s, peak RSS ${(probe.peakBytes / 1e6).toFixed(0)} MB`);
    }
  }
  for (const p of points) {
    r.fig(`${label}: seconds per frame, ${p.frames} frames`, 's', p.seconds.map((s) => s / p.frames), `one UNet call: ${p.seconds.map((s) => s.toFixed(2)).join(', ')} s`);
    r.fig(`${label}: peak RSS, ${p.frames} frames`, 'MB', p.peakBytes.map((b) => b / 1e6));
  }
  const xs = points.map((p) => p.frames);
  const time = linearFit(xs, points.map((p) => median(p.seconds)));
  const rss = linearFit(xs, points.map((p) => median(p.peakBytes) / 1e6));
  r.fig(`${label}: time fit, seconds per added frame (b)`, 's', time.slope, `a = ${time.intercept.toFixed(3)} s; worst point ${(100 * time.worstDeviation).toFixed(1)} % off the line, at ${time.worstAt} frames`);
  r.fig(`${label}: peak RSS fit, MB per added frame (b)`, 'MB', rss.slope, `a = ${rss.intercept.toFixed(0)} MB; worst point ${(100 * rss.worstDeviation).toFixed(1)} % off the line, at ${rss.worstAt} frames; the line gives ${(rss.intercept + 128 * rss.slope).toFixed(0)} MB at 128 frames, ${(rss.intercept + 256 * rss.slope).toFixed(0)} MB at 256`);
  r.target(`${label}: time linear in frames (every point vs the fit a + b·F)`, 'within 10 %', 0.1, '<=', 'rel', time.worstDeviation);
  r.target(`${label}: peak RSS linear in frames (every point vs the fit a + b·F)`, 'within 10 %', 0.1, '<=', 'rel', rss.worstDeviation);
  // per repetition (the two calls closest in time, so the same load), then the median over repetitions
  const [lo, hi] = points.slice(-2);
  const ratios = hi.seconds.map((s, i) => s / hi.frames / (lo.seconds[i] / lo.frames));
  const perFrame = median(ratios);
  r.fig(`${label}: seconds per frame, ${hi.frames} ÷ ${lo.frames} frames, per run`, '×', ratios);
  r.target(`${label}: seconds per frame, ${hi.frames} ÷ ${lo.frames} frames`, 'within 10 %', 0.1, '<=', 'rel', Math.abs(perFrame - 1), `median ratio ${perFrame.toFixed(3)}`);
}

export const longClipSuite: Suite = async (ctx: SuiteContext) => {
  const r = new Recorder('long-clip', ctx.log);
  const starter = starterModel();
  const source = { label: 'starter', configs: { unet: starter.configs.unet, motion: starter.configs.motion, vae: starter.configs.vae, text: starter.configs.text_encoder }, unet: starter.unet, motion: starter.motion, vae: starter.vae, text: starter.text_encoder };
  const dir = mkdtempSync(join(ctx.scratch, 'long-clip-'));
  const models = new BenchModels(source, dir);
  try {
    // --no-starter: only the full-size part (a re-run of it on a quieter machine)
    if (!ctx.flags.has('no-starter')) await measure(r, ctx.log, models, 'starter', STARTER_FRAMES, runsOr(ctx, 3));
  } finally {
    await models.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  if (ctx.full) {
    requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
    await measure(r, ctx.log, ctx.fullSize(), 'full size', FULL_FRAMES, 1);
  } else {
    r.note('full-size part not run: opt in with --full (SD1.5 + motion, 16 × 32² latent per window at 16 / 64 / 128 frames, random weights)');
  }
  return r.result();
};
