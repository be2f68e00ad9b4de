import type { UNetShape } from '../model-set';
import { GiB } from '../peak-rss';
import { Recorder, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, probeUNetMemory, requireFreeDisk } from './full-size-common';

/**
 * `guidance`: what running the classifier-free-guidance halves as two batch-1 UNet calls (the pipeline's
 * `guidanceCalls: 'separate'`, chosen by the job guard when the batched call would not fit) saves and costs, at
 * full SD1.5 size: peak RSS of a fresh process that creates the session and makes two calls (memory-probe.ts),
 * batch 2 against batch 1, and the time of one guided step both ways (one batch-2 call vs two batch-1 calls,
 * the second call of each process). 16 × 32² by default (the 256² clip); `--full`: 16 × 64² (the 512² clip).
 */
export const guidanceSuite: Suite = async (ctx) => {
  const r = new Recorder('guidance', ctx.log);
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  const latent = ctx.full ? 64 : 32;
  const one: UNetShape = { batch: 1, frames: 16, latentHeight: latent, latentWidth: latent, tokens: 77 };
  const two: UNetShape = { ...one, batch: 2 };
  // separate first: if the batched one does not fit this machine, the separate figure is still recorded
  const sep = await probeUNetMemory(models, one, 3);
  r.fig(`separate calls: peak RSS, ${describe(one)}`, 'GiB', sep.peakBytes / GiB, 'fresh process: session + 3 calls');
  // onnxruntime's CPU arena off: the live set instead of the arena's doubling regions (session option cpuMemArena)
  const sepNoArena = await probeUNetMemory(models, one, 3, false);
  r.fig(`separate calls, CPU arena off: peak RSS, ${describe(one)}`, 'GiB', sepNoArena.peakBytes / GiB, 'fresh process: session + 3 calls');
  const noArenaStep = sepNoArena.callMs[1] + sepNoArena.callMs[2];
  r.fig('guided step as two batch-1 calls, CPU arena off', 's', secs(noArenaStep), `calls ${sepNoArena.callMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (the first warms up)`);
  if (ctx.flags.has('no-batched')) return r.result();
  const bat = await probeUNetMemory(models, two, 2);
  r.fig(`batched call: peak RSS, ${describe(two)}`, 'GiB', bat.peakBytes / GiB, 'fresh process: session + 2 calls');
  const sepStep = sep.callMs[1] + sep.callMs[2];
  const batStep = bat.callMs[1];
  r.fig('guided step as two batch-1 calls', 's', secs(sepStep), `calls ${sep.callMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (the first warms up)`);
  r.fig('guided step as one batch-2 call', 's', secs(batStep), `calls ${bat.callMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s (the first warms up)`);
  r.fig('memory saved by separate calls', 'GiB', (bat.peakBytes - sep.peakBytes) / GiB);
  r.fig('speed cost of separate calls', '%', (100 * (sepStep - batStep)) / batStep, 'positive = slower; one process after the other on a shared machine: read with the load average');
  return r.result();
};
