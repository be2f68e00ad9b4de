import { freemem } from 'node:os';
import { WINOGRAD_MAX_OUT_CHANNELS } from '../../src/main/compiler/graph/conv-plan';
import type { BenchModels, UNetShape } from '../model-set';
import { GiB, openPeakWindow, rssSplit } from '../peak-rss';
import { diffStats, type DiffStats } from '../quality';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, requireFreeDisk, unetCallOutput } from './full-size-common';

/**
 * `conv`: the CPU's conv plans (compiler/graph/conv-plan.ts) against each other at full SD1.5 size, random weights,
 * fp32: the UNet + motion graph of 1 × 16 × 32² with every 3×3 convolution direct (one NCHWc Conv) and with the
 * winograd plan (F(4×4, 3×3) on the layers with ≤ 640 outputs), called alternately on identical inputs after one
 * warm-up call each, the order swapped every pair. Per pair: direct s ÷ winograd s, and the winograd output against
 * direct's (max |Δ|, relative L2). Both sessions stay loaded when the memory available allows; otherwise (or with
 * `--one-at-a-time`) each call loads its session, warms it up and closes it. Reports both weights files and, for
 * one session at a time, each plan's peak RSS.
 */

const PAIRS_DEFAULT = 3;
/** MemAvailable to keep both sessions: measured ≈ 8.7 GiB direct, ≈ 9.5 GiB winograd at 32², plus room. */
const BOTH_SESSIONS_BYTES = 20 * GiB;

export const convSuite: Suite = async (ctx) => {
  const r = new Recorder('conv', ctx.log);
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK + 6 * GiB);
  const plans = { direct: ctx.fullSize('float', 'direct'), winograd: ctx.fullSize('float', 'winograd') } as const;
  const shape: UNetShape = { batch: 1, frames: 16, latentHeight: 32, latentWidth: 32, tokens: 77 };
  const pairs = runsOr(ctx, PAIRS_DEFAULT);
  for (const [name, m] of Object.entries(plans)) {
    const t = await m.compileUNet(shape);
    r.fig(`${name} UNet+motion compile${t.reused ? ' (reused)' : ''}`, 's', secs(t.buildMs + t.writeMs), `weights file ${(t.weightsBytes / GiB).toFixed(2)} GiB`);
  }
  const available = freemem();
  const together = !ctx.flags.has('one-at-a-time') && available >= BOTH_SESSIONS_BYTES;
  r.note(together ? `both sessions loaded (${(available / GiB).toFixed(1)} GiB available)` : `one session at a time (${(available / GiB).toFixed(1)} GiB available)`);
  const times: Record<'direct' | 'winograd', number[]> = { direct: [], winograd: [] };
  const peaks: Record<'direct' | 'winograd', number[]> = { direct: [], winograd: [] };
  const quality: DiffStats[] = [];
  const w = openPeakWindow();
  if (together) for (const m of Object.values(plans)) await unetCallOutput(m, shape, 11);
  for (let i = 0; i < pairs; i++) {
    const order: Array<['direct' | 'winograd', BenchModels]> = i % 2 === 0 ? [['direct', plans.direct], ['winograd', plans.winograd]] : [['winograd', plans.winograd], ['direct', plans.direct]];
    const outs: Partial<Record<'direct' | 'winograd', Float32Array>> = {};
    for (const [name, m] of order) {
      const one = together ? undefined : openPeakWindow();
      if (!together) await unetCallOutput(m, shape, 11);
      const c = await unetCallOutput(m, shape, 21 + i);
      times[name].push(c.ms);
      outs[name] = c.out;
      if (!together) {
        await m.closeUNet(shape);
        peaks[name].push(one!.stop().peak);
      }
    }
    const d = diffStats(outs.winograd!, outs.direct!);
    quality.push(d);
    ctx.log(`  pair ${i + 1}/${pairs} (${order[0][0]} first): direct ${(times.direct[i] / 1000).toFixed(1)} s, winograd ${(times.winograd[i] / 1000).toFixed(1)} s; max |Δ| ${d.maxAbs.toPrecision(3)}, rel L2 ${d.relL2.toPrecision(3)}`);
  }
  const peak = w.stop();
  r.fig('direct UNet+motion call', 's', times.direct.map(secs), describe(shape));
  r.fig('winograd UNet+motion call', 's', times.winograd.map(secs), `F(4×4, 3×3) on the 3×3 stride-1 layers with ≤ ${WINOGRAD_MAX_OUT_CHANNELS} outputs`);
  r.fig('speed ratio direct s ÷ winograd s (per pair)', '×', times.direct.map((t, i) => t / times.winograd[i]), `${pairs} alternating pairs, order swapped each pair; > 1 = winograd faster`);
  r.fig('winograd vs direct UNet output: max |Δ|', '', quality.map((d) => d.maxAbs), 'identical inputs per pair');
  r.fig('winograd vs direct UNet output: relative L2', '', quality.map((d) => d.relL2));
  if (together) {
    r.fig('peak RSS (both sessions, warm-ups and all pairs)', 'GiB', peak.peak / GiB, rssSplit(peak));
    for (const m of Object.values(plans)) await m.closeUNet(shape);
  } else {
    r.fig('direct peak RSS (session, warm-up, call)', 'GiB', peaks.direct.map((b) => b / GiB));
    r.fig('winograd peak RSS (session, warm-up, call)', 'GiB', peaks.winograd.map((b) => b / GiB));
  }
  return r.result();
};
