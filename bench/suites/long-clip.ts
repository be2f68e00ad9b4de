import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { starterModel } from '../../src/main/engine/starter/starter-model';
import { DEFAULT_CONTEXT_WINDOWS } from '../../src/shared/domain/context-windows';
import { BenchModels, type UNetShape } from '../model-set';
import { Recorder, type SuiteContext, type Suite } from '../suite';
import { probeUNetMemory } from './full-size-common';

/**
 * `long-clip` (issue 17 item 6): one UNet + motion call with FreeNoise context windows (the studio default: 16
 * frames, stride 4, pyramid) at 16, 64 and 128 frames, batch 1 × 32×32 latent, each in a fresh child process
 * (memory-probe.ts: session, one warm-up call, one timed call, VmHWM). Reported per frame; the claim is that cost
 * and memory grow linearly with frames (spatial layers see each frame once, motion attention is per window):
 *  - seconds per frame at 128 within 10 % of seconds per frame at 64;
 *  - peak-RSS growth per added frame, 64→128 within 10 % of 16→64 (the weights are a constant part of the peak).
 * The starter model always runs (seconds); the full-size SD1.5 + motion part only with --full.
 */

const FRAMES = [16, 64, 128];

async function measure(r: Recorder, models: BenchModels, label: string): Promise<void> {
  const secondsPerFrame: number[] = [];
  const peaks: number[] = [];
  for (const frames of FRAMES) {
    const s: UNetShape = { batch: 1, frames, latentHeight: 32, latentWidth: 32, tokens: 77, windows: { ...DEFAULT_CONTEXT_WINDOWS } };
    const p = await probeUNetMemory(models, s, 2);
    const seconds = p.callMs[p.callMs.length - 1] / 1000;
    secondsPerFrame.push(seconds / frames);
    peaks.push(p.peakBytes);
    r.fig(`${label}: seconds per frame, ${frames} frames`, 's', seconds / frames, `one UNet call of ${frames} frames took ${seconds.toFixed(2)} s`);
    r.fig(`${label}: peak RSS, ${frames} frames`, 'MB', p.peakBytes / 1e6, `${(p.peakBytes / frames / 1e6).toFixed(2)} MB per frame`);
  }
  const timeRatio = secondsPerFrame[2] / secondsPerFrame[1];
  const slopeLow = (peaks[1] - peaks[0]) / (FRAMES[1] - FRAMES[0]);
  const slopeHigh = (peaks[2] - peaks[1]) / (FRAMES[2] - FRAMES[1]);
  r.fig(`${label}: peak RSS per added frame, 16→64 / 64→128`, 'MB', [slopeLow / 1e6, slopeHigh / 1e6]);
  r.target(`${label}: time linear in frames (s/frame 128 ÷ 64)`, 'within 10 %', 0.1, '<=', 'rel', Math.abs(timeRatio - 1));
  r.target(`${label}: memory linear in frames (RSS slope 64→128 ÷ 16→64)`, 'within 10 %', 0.1, '<=', 'rel', Math.abs(slopeHigh / slopeLow - 1));
}

export const longClipSuite: Suite = async (ctx: SuiteContext) => {
  const r = new Recorder('long-clip', ctx.log);
  const starter = starterModel();
  const source = { label: 'starter', configs: { unet: starter.configs.unet, motion: starter.configs.motion, vae: starter.configs.vae, text: starter.configs.text_encoder }, unet: starter.unet, motion: starter.motion, vae: starter.vae, text: starter.text_encoder };
  const dir = mkdtempSync(join(ctx.scratch, 'long-clip-'));
  const models = new BenchModels(source, dir);
  try {
    await measure(r, models, 'starter');
  } finally {
    await models.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  if (ctx.full) await measure(r, ctx.fullSize(), 'full size');
  else r.note('full-size part not run: opt in with --full (SD1.5 + motion, 16 × 32² latent per window, random weights)');
  return r.result();
};
