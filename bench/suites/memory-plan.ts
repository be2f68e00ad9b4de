import { CPU_SAMPLE_CHUNKS } from '../../src/main/compiler/graph/sample-chunks';
import type { ProbeResult } from '../memory-probe';
import type { UNetShape } from '../model-set';
import { GiB } from '../peak-rss';
import { Recorder, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, probeUNetMemory, requireFreeDisk } from './full-size-common';

const RSS_LIMIT_GB = 10;

/**
 * `memory-plan` (issue 20 item 3): the guided 16-frame step's peak RSS and time under each memory saving, each
 * configuration in a fresh process (memory-probe.ts: session + 2 calls on random inputs, VmHWM):
 *
 *   guidance halves  batched (one batch-2 call)  |  separate (two batch-1 calls, the job guard's fallback)
 *   spatial layers   every sample at once        |  sample chunks (the engine's CPU plan, graph/sample-chunks.ts)
 *
 * The step's time is the second call (batched) or twice the second call (separate). Default 16 × 32² (the 256²
 * clip); `--full`: 16 × 64² (the 512² clip, the target's shape). `--chunked-only` skips the configurations
 * without chunks, `--no-batched` the batch-2 ones (they need ≈ 13–17 GiB per half at 64²); a configuration that fails (out of memory) is recorded
 * as such and the suite goes on.
 */
export const memoryPlanSuite: Suite = async (ctx) => {
  const r = new Recorder('memory-plan', ctx.log);
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  const latent = ctx.full ? 64 : 32;
  const one: UNetShape = { batch: 1, frames: 16, latentHeight: latent, latentWidth: latent, tokens: 77 };
  const rows = CPU_SAMPLE_CHUNKS.maxRows;
  // The separate halves first (the pair that decides the target and the chunks' speed cost), then batched.
  const plain = !ctx.flags.has('chunked-only');
  const configs: Array<{ label: string; shape: UNetShape; calls: number; halves: 1 | 2 }> = [
    { label: 'separate halves, sample chunks', shape: { ...one, chunkRows: rows }, calls: 2, halves: 2 },
    ...(plain ? [{ label: 'separate halves, all samples at once', shape: one, calls: 2, halves: 2 as const }] : []),
    ...(ctx.flags.has('no-batched') ? [] : [{ label: 'batched, sample chunks', shape: { ...one, batch: 2, chunkRows: rows }, calls: 2, halves: 1 as const }]),
    ...(plain && !ctx.flags.has('no-batched') ? [{ label: 'batched, all samples at once', shape: { ...one, batch: 2 }, calls: 2, halves: 1 as const }] : []),
  ];
  const steps = new Map<string, { peak: number; step: number }>();
  for (const c of configs) {
    let p: ProbeResult;
    try {
      p = await probeUNetMemory(models, c.shape, c.calls);
    } catch (e) {
      r.note(`${c.label} (${describe(c.shape)}): did not complete — ${(e as Error).message}`);
      continue;
    }
    const step = p.callMs[1] * c.halves;
    steps.set(c.label, { peak: p.peakBytes, step });
    r.fig(`${c.label}: peak RSS, ${describe(c.shape)}`, 'GiB', p.peakBytes / GiB, `fresh process: session ${(p.sessionMs / 1000).toFixed(0)} s + ${c.calls} calls`);
    r.fig(`${c.label}: guided step`, 's', secs(step), `calls ${p.callMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (the first warms up)${c.halves === 2 ? '; step = 2 × the second' : ''}`);
  }
  // Each saving against the same guidance form without chunks: what the chunks cost.
  for (const form of ['separate halves', 'batched']) {
    const a = steps.get(`${form}, all samples at once`);
    const b = steps.get(`${form}, sample chunks`);
    if (a && b) {
      r.fig(`${form}: speed cost of sample chunks`, '%', (100 * (b.step - a.step)) / a.step, 'positive = slower; fresh processes one after the other: read with the load average');
      r.fig(`${form}: memory saved by sample chunks`, 'GiB', (a.peak - b.peak) / GiB);
    }
  }
  const sep = steps.get('separate halves, sample chunks');
  const bat = steps.get('batched, sample chunks');
  if (sep && bat) r.fig('with chunks: speed cost of separate halves', '%', (100 * (sep.step - bat.step)) / bat.step, 'positive = slower');
  const best = [...steps.values()].reduce((m, s) => Math.min(m, s.peak), Infinity);
  r.target(
    `peak RSS, guided step, 16 × ${latent * 8}² , fp32 (measured, the lowest configuration)`,
    `≤ ${RSS_LIMIT_GB} GB`,
    RSS_LIMIT_GB,
    '<=',
    'GB',
    Number.isFinite(best) ? best / 1e9 : undefined,
    ctx.full ? 'the issue-20 target shape' : 'the 256² clip: the target is for --full (512²)',
  );
  return r.result();
};
