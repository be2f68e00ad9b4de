import { freemem } from 'node:os';
import { CPU_SAMPLE_CHUNKS } from '../../src/main/compiler/graph/sample-chunks';
import { framesToRGB8, textToVideo, type TextToVideoResult } from '../../src/main/engine/pipelines/text-to-video';
import { ClipTokenizer } from '../../src/main/engine/tokenizer/clip-tokenizer';
import { INT8_MAX_REL_L2 } from '../../src/main/verify/run';
import { DEFAULT_PARAMS } from '../../src/shared/domain/generation';
import type { BenchModels, UNetShape } from '../model-set';
import { GiB, openPeakWindow, rssSplit } from '../peak-rss';
import { diffStats, psnr8, type DiffStats } from '../quality';
import { Recorder, runsOr, secs, type Suite } from '../suite';
import { describe, FULL_SIZE_DISK, requireFreeDisk, unetCallOutput } from './full-size-common';

/**
 * `precision`: the labelled int8 CPU plan (compiler/graph/quant-plan.ts: the UNet's Linear and conv
 * layers as int8 products over 7-bit per-channel weights) against fp32 at full SD1.5 size, random weights.
 *
 * 1. Speed and UNet quality: the fp32 and the int8 UNet + motion graph of one shape (1 × 16 × 32²; `--full`
 *    1 × 16 × 64² under the CPU sample-chunk plan, as the engine runs that size) are called alternately on identical
 *    inputs, one warm-up call each first, the order swapped every pair so a load drift falls on both. Per pair: the
 *    speed ratio fp32 s ÷ int8 s (its median is judged) and the int8 output against fp32's: max |Δ|, mean |Δ|,
 *    relative L2. Both sessions stay loaded when the memory available allows (≈ 8 + 6 GiB at 32²); otherwise, or with
 *    `--one-at-a-time`, each call of a pair loads its session, warms it up and closes it, like the peer suite.
 * 2. Decoded frames: a whole text-to-video generation (CLIP, UNet + motion, VAE) at 256×256 × 16 frames, 4 LCM
 *    steps, guidance 1, the same seed and prompt, fp32 then int8: PSNR of the int8 clip's uint8 frames against the
 *    fp32 clip's, and max / mean |Δ| of the final latents. Random weights make noise-like images; the figure still
 *    measures how far int8 moves what a creator would see. `--no-generation` skips this part.
 */

const PAIRS_DEFAULT = 3;
/** MemAvailable needed to keep both sessions loaded: measured peaks ≈ 8 GiB fp32 + ≈ 6 GiB int8 at 32², plus room. */
const BOTH_SESSIONS_BYTES = { 32: 15 * GiB, 64: 18 * GiB } as const;
/** Scratch disk: the fp32 weights file (5.2 GB), the int8 one (less) and the text encoder and VAE. */
const PRECISION_DISK = FULL_SIZE_DISK + 4 * GiB;

export const precisionSuite: Suite = async (ctx) => {
  const r = new Recorder('precision', ctx.log);
  requireFreeDisk(ctx.scratch, PRECISION_DISK);
  const fp = ctx.fullSize();
  const q = ctx.fullSize('int8');
  const latent = ctx.full ? 64 : 32;
  const shape: UNetShape = { batch: 1, frames: 16, latentHeight: latent, latentWidth: latent, tokens: 77, ...(ctx.full ? { chunkRows: CPU_SAMPLE_CHUNKS.maxRows } : {}) };
  const label = `${describe(shape)}${shape.chunkRows ? `, sample chunks ≤ ${shape.chunkRows} rows` : ''}`;
  const pairs = runsOr(ctx, PAIRS_DEFAULT);

  for (const [name, m] of [['fp32', fp], ['int8', q]] as const) {
    const t = await m.compileUNet(shape);
    r.fig(`${name} UNet+motion compile${t.reused ? ' (reused)' : ''}`, 's', secs(t.buildMs + t.writeMs), `weights file ${(t.weightsBytes / GiB).toFixed(2)} GiB`);
  }
  const available = freemem();
  const together = !ctx.flags.has('one-at-a-time') && available >= BOTH_SESSIONS_BYTES[latent];
  r.note(
    together
      ? `both sessions loaded in this process (${(available / GiB).toFixed(1)} GiB available at the start)`
      : `one session at a time: each call of a pair creates its session, warms it up and closes it (${ctx.flags.has('one-at-a-time') ? '--one-at-a-time' : `only ${(available / GiB).toFixed(1)} GiB available`})`,
  );

  const times: Record<'fp32' | 'int8', number[]> = { fp32: [], int8: [] };
  const quality: DiffStats[] = [];
  let refScale = 0;
  const w = openPeakWindow();
  if (together) {
    for (const m of [fp, q]) await unetCallOutput(m, shape, 11); // warm-up: arena growth, weight prepacking
  }
  for (let i = 0; i < pairs; i++) {
    const seed = 21 + i;
    const order: Array<['fp32' | 'int8', BenchModels]> = i % 2 === 0 ? [['fp32', fp], ['int8', q]] : [['int8', q], ['fp32', fp]];
    const outs: Partial<Record<'fp32' | 'int8', Float32Array>> = {};
    for (const [name, m] of order) {
      if (!together) await unetCallOutput(m, shape, 11);
      const c = await unetCallOutput(m, shape, seed);
      times[name].push(c.ms);
      outs[name] = c.out;
      if (!together) await m.closeUNet(shape);
    }
    const d = diffStats(outs.int8!, outs.fp32!);
    quality.push(d);
    refScale = outs.fp32!.reduce((a, v) => a + Math.abs(v), 0) / outs.fp32!.length;
    ctx.log(`  pair ${i + 1}/${pairs} (${order[0][0]} first): fp32 ${(times.fp32[i] / 1000).toFixed(1)} s, int8 ${(times.int8[i] / 1000).toFixed(1)} s; int8 vs fp32 max |Δ| ${d.maxAbs.toPrecision(3)}, mean |Δ| ${d.meanAbs.toPrecision(3)}, rel L2 ${d.relL2.toPrecision(3)}`);
  }
  const peak = w.stop();
  r.fig('fp32 UNet+motion call', 's', times.fp32.map(secs), label);
  r.fig('int8 UNet+motion call', 's', times.int8.map(secs), 'Linear layers as DynamicQuantizeMatMul, convolutions as uint8 im2col × int8 MatMulIntegerToFloat, 7-bit per-channel weights; time embedding, conv_in/conv_out fp32');
  r.fig('speed ratio fp32 s ÷ int8 s (per pair)', '×', times.fp32.map((t, i) => t / times.int8[i]), `${pairs} alternating pairs, order swapped each pair; > 1 = int8 faster`);
  r.fig('int8 vs fp32 UNet output: max |Δ|', '', quality.map((d) => d.maxAbs), `identical inputs per pair; mean |fp32 output| ${refScale.toPrecision(3)}`);
  r.fig('int8 vs fp32 UNet output: mean |Δ|', '', quality.map((d) => d.meanAbs));
  r.fig('int8 vs fp32 UNet output: relative L2', '', quality.map((d) => d.relL2), `‖int8 − fp32‖₂ ÷ ‖fp32‖₂ (verify --precision int8 accepts ≤ ${INT8_MAX_REL_L2} on the fixtures)`);
  r.fig(`peak RSS (${together ? 'both sessions, warm-ups and all pairs' : 'largest single session, one at a time'})`, 'GiB', peak.peak / GiB, rssSplit(peak));
  if (together) {
    await q.closeUNet(shape);
    await fp.closeUNet(shape);
  }

  // The generation is the same 256² clip at any --full; --no-generation skips it (a second speed run).
  if (ctx.flags.has('no-generation')) r.note('--no-generation: the decoded-frame comparison was skipped');
  else await decodedQuality(ctx.log, r, fp, q);
  return r.result();
};

/** Part 2: the same generation in fp32 and int8, one set loaded at a time; PSNR of the decoded frames, |Δ| of the latents. */
async function decodedQuality(log: (line: string) => void, r: Recorder, fp: BenchModels, q: BenchModels): Promise<void> {
  const frames = 16;
  const steps = 4;
  const req = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff at sunset, waves crashing', negativePrompt: '', seed: 3, steps, guidance: 1, frames, width: 256, height: 256 };
  const genShape: UNetShape = { batch: 1, frames, latentHeight: 32, latentWidth: 32, tokens: 77 };
  const tokenizer = ClipTokenizer.load();
  const results: Partial<Record<'fp32' | 'int8', TextToVideoResult>> = {};
  for (const [name, m] of [['fp32', fp], ['int8', q]] as const) {
    await m.prepare(genShape); // sessions loaded before the clock, as in the pipeline suite
    const res = await textToVideo(m, req, { tokenizer, trace: true });
    results[name] = res;
    log(`  ${name} generation: ${(res.timings.totalMs / 1000).toFixed(1)} s (UNet ${(res.timings.unetMs / steps / 1000).toFixed(1)} s per step, decode ${(res.timings.decodeMs / 1000).toFixed(1)} s)`);
    await m.dispose(); // one set's sessions at a time
  }
  const a = results.fp32!;
  const b = results.int8!;
  const lastLatents = (x: TextToVideoResult): Float32Array => {
    const l = x.trace?.latents;
    if (!l?.length) throw new Error('precision suite: the traced generation kept no latents');
    return l[l.length - 1];
  };
  const lat = diffStats(lastLatents(b), lastLatents(a));
  const ref8 = framesToRGB8(a.frames, frames, 256, 256);
  const psnr = psnr8(framesToRGB8(b.frames, frames, 256, 256), ref8);
  // Random weights drive many pixels past [0, 1]; clipped bytes agree whatever the precision, so say how many there are.
  const clipped = ref8.reduce((n, img) => n + img.reduce((k, v) => k + (v === 0 || v === 255 ? 1 : 0), 0), 0) / (frames * 256 * 256 * 3);
  const what = `256×256 × ${frames} frames, ${steps} LCM steps, guidance 1, seed ${req.seed}; random weights make noise-like frames`;
  r.fig('decoded frames: PSNR int8 vs fp32', 'dB', psnr, `${what}; uint8 frames, fp32 as the reference`);
  r.fig('decoded fp32 frames: bytes clipped to 0 or 255', '%', 100 * clipped, 'equal in both clips wherever both clip: they raise the PSNR');
  r.fig('final latents: max |Δ| int8 vs fp32', '', lat.maxAbs, `mean |fp32 latent| ${(lastLatents(a).reduce((s, v) => s + Math.abs(v), 0) / lastLatents(a).length).toPrecision(3)}`);
  r.fig('final latents: mean |Δ| int8 vs fp32', '', lat.meanAbs);
  r.fig('final latents: relative L2 int8 vs fp32', '', lat.relL2);
  r.fig('generation UNet call, fp32 then int8 (mean per step; not alternated)', 's', [a, b].map((x) => secs(x.timings.unetMs / steps)));
}
