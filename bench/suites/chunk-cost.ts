import { CPU_SAMPLE_CHUNKS } from '../../src/main/compiler/graph/sample-chunks';
import type { UNetShape } from '../model-set';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, requireFreeDisk, unetCall } from './full-size-common';

/**
 * `chunk-cost`: the speed cost of the CPU sample-chunk plan (graph/sample-chunks.ts), measured fairly: the plain
 * graph and the chunked graph of the same shape are both loaded in this process and called alternately (plain,
 * chunked, plain, chunked, …; one warm-up call each first), so a change in a shared machine's load falls on both.
 * The figure is the per-pair ratio chunked ÷ plain; its median is judged. Default 1 × 16 × 32² (the `step`
 * shape: four frames per iteration at full resolution); `--full` 1 × 16 × 64² (one frame per iteration). Needs
 * both sessions' weights at once (2 × 5.3 GB at full size).
 */
export const chunkCostSuite: Suite = async (ctx) => {
  const r = new Recorder('chunk-cost', ctx.log);
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  const models = ctx.fullSize();
  const latent = ctx.full ? 64 : 32;
  const plain: UNetShape = { batch: 1, frames: 16, latentHeight: latent, latentWidth: latent, tokens: 77 };
  const chunked: UNetShape = { ...plain, chunkRows: CPU_SAMPLE_CHUNKS.maxRows };
  const runs = runsOr(ctx, 3);
  await unetCall(models, plain, 11);
  await unetCall(models, chunked, 11);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await unetCall(models, plain, 21 + i));
    b.push(await unetCall(models, chunked, 21 + i));
    ctx.log(`  pair ${i + 1}/${runs}: plain ${(a[i] / 1000).toFixed(1)} s, chunked ${(b[i] / 1000).toFixed(1)} s`);
  }
  r.fig(`plain UNet+motion call, ${describe(plain)}`, 's', a.map(secs));
  r.fig(`chunked UNet+motion call (≤ ${CPU_SAMPLE_CHUNKS.maxRows} rows per iteration)`, 's', b.map(secs));
  r.fig('speed cost of sample chunks (chunked ÷ plain, per pair)', '×', b.map((ms, i) => ms / a[i]), 'alternating calls in one process; > 1 = chunks slower');
  await models.closeUNet(plain);
  await models.closeUNet(chunked);
  return r.result();
};
