import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { attr, GraphBuilder } from '../../src/main/compiler/graph/builder';
import { emitModel } from '../../src/main/compiler/graph/emit';
import { multiHeadAttention } from '../../src/main/compiler/graph/layers';
import type { UNetShape } from '../model-set';
import { GiB, MiB, rssSplit } from '../peak-rss';
import { Recorder, secs, type Suite, type SuiteContext } from '../suite';
import { describe, FULL_SIZE_DISK, probeMemory, probeUNetMemory, reportRoofline, requireFreeDisk } from './full-size-common';

/** The real step: 16 frames at 512×512 (64×64 latent), classifier-free guidance (batch 2), fp32. */
export const FULL_STEP_SHAPE: UNetShape = { batch: 2, frames: 16, latentHeight: 64, latentWidth: 64, tokens: 77 };
const RSS_LIMIT_GB = 10;

/**
 * `memory`. The target is the peak RSS of a 16-frame 512×512 CFG step (32 samples of 64×64 latents) ≤ 10 GB,
 * which needs attention that never materialises a full score tensor. Measured by default (minutes):
 *   1. attention alone (fresh process) at the step's real size (B = 32, S = 4096, C = 320, 8 heads) through com.microsoft
 *      MultiHeadAttention — peak RSS growth vs the analytic size of one full score tensor (17.2 GB);
 *   2. the same attention unfused (MatMul → Softmax → MatMul) at B = 2, to show what materialising costs;
 *   3. the full-size UNet + motion at 32×32 latents, batch 1, 2/4/8 frames: peak RSS of a fresh process
 *      (bench/unet-memory-probe.ts) that creates the session and makes two calls; a straight-line fit in the
 *      number of samples, extrapolated to 32 samples × 4× the pixels.
 * With --full: the real 16 × 512² batch-2 step itself, two calls (≈ 2 × 17.7 TMAC: tens of minutes on 2 cores,
 * and more memory than a shared 23 GB machine should give it).
 */
export const memorySuite: Suite = async (ctx) => {
  const r = new Recorder('memory', ctx.log);
  const dir = mkdtempSync(join(ctx.scratch, 'memory-'));
  try {
    await attentionMemory(r, dir, 32, true);
    await attentionMemory(r, dir, 2, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  requireFreeDisk(ctx.scratch, FULL_SIZE_DISK);
  await unetScaling(ctx, r);
  if (ctx.full) await fullStep(ctx, r);
  else r.target('peak RSS, 16 × 512² step, batch 2, fp32 (measured)', `≤ ${RSS_LIMIT_GB} GB`, RSS_LIMIT_GB, '<=', 'GB', undefined, 'not run: opt in with --full');
  return r.result();
};

async function attentionMemory(r: Recorder, dir: string, batch: number, fused: boolean): Promise<void> {
  const S = 4096;
  const C = 320;
  const heads = 8;
  const d = C / heads;
  const g = new GraphBuilder(`attn_${fused ? 'mha' : 'unfused'}_${batch}`);
  const q = g.input('q', 'float32', [batch, S, C]);
  const k = g.input('k', 'float32', [batch, S, C]);
  const v = g.input('v', 'float32', [batch, S, C]);
  let out: string;
  if (fused) out = multiHeadAttention(g, q, k, v, heads, { batch, queries: S, keys: S, channels: C });
  else {
    const split = (x: string, perm: number[]): string => g.op('Transpose', [g.op('Reshape', [x, g.i64([batch, S, heads, d])])], { perm: attr.ints(perm) });
    const scores = g.op('Mul', [g.op('MatMul', [split(q, [0, 2, 1, 3]), split(k, [0, 2, 3, 1])]), g.scalar(1 / Math.sqrt(d))]);
    const p = g.op('Softmax', [scores], { axis: attr.int(-1) });
    const o = g.op('Transpose', [g.op('MatMul', [p, split(v, [0, 2, 1, 3])])], { perm: attr.ints([0, 2, 1, 3]) });
    out = g.op('Reshape', [o, g.i64([batch, S, C])]);
  }
  g.output(out, 'y', 'float32', [batch, S, C]);
  const { modelPath } = emitModel(g.build(), { dir: join(dir, g.name), modelFile: 'attn.onnx' });
  const p = await probeMemory({ model: modelPath, calls: 1, inputs: ['q', 'k', 'v'].map((name) => ({ name, dims: [batch, S, C] })) });
  const scoreBytes = batch * heads * S * S * 4;
  const label = `${fused ? 'MultiHeadAttention (flash path)' : 'unfused MatMul-Softmax-MatMul'} B=${batch} S=${S} C=${C} ${heads} heads`;
  r.fig(
    `${label}: peak RSS growth in a fresh process`,
    'MiB',
    (p.peakBytes - p.startBytes) / MiB,
    `session + 1 run, over the RSS with q, k, v allocated (${(p.feedBytes / MiB).toFixed(0)} MiB); the output is ${(p.feedBytes / 3 / MiB).toFixed(0)} MiB; one full score tensor would be ${(scoreBytes / 1e9).toFixed(2)} GB`,
  );
  r.fig(`${label}: time`, 's', secs(p.callMs[0]));
}

async function unetScaling(ctx: SuiteContext, r: Recorder): Promise<void> {
  const models = ctx.fullSize();
  const frames = [2, 4, 8];
  const peaks: number[] = [];
  let base = 0;
  for (const f of frames) {
    const s: UNetShape = { batch: 1, frames: f, latentHeight: 32, latentWidth: 32, tokens: 77 };
    // two calls: from the second on, onnxruntime allocates by the memory pattern planned in the first, on
    // top of the arena the first call grew
    const p = await probeUNetMemory(models, s, 2);
    base = p.startBytes;
    peaks.push(p.peakBytes);
    r.fig(`peak RSS, fresh process: full-size UNet+motion session + 2 calls, ${describe(s)}`, 'GiB', p.peakBytes / GiB, `process RSS before the session ${(p.startBytes / GiB).toFixed(2)} GiB; ${rssSplit({ anon: p.anonBytes, file: p.fileBytes })}; calls ${p.callMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
  }
  // least-squares line peak = a + b · samples
  const xs = frames;
  const mx = xs.reduce((acc, x) => acc + x, 0) / xs.length;
  const my = peaks.reduce((acc, y) => acc + y, 0) / peaks.length;
  const b = xs.reduce((acc, x, i) => acc + (x - mx) * (peaks[i] - my), 0) / xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
  const a = my - b * mx;
  r.fig('peak RSS per extra 32×32 sample (fit slope)', 'MiB', b / MiB, `intercept (weights, code, runtime at 0 samples) ${(a / GiB).toFixed(2)} GiB; a fresh process before the session ${(base / GiB).toFixed(2)} GiB`);
  const samples = FULL_STEP_SHAPE.batch * FULL_STEP_SHAPE.frames;
  const pixelRatio = (FULL_STEP_SHAPE.latentHeight * FULL_STEP_SHAPE.latentWidth) / (32 * 32);
  const extrapolated = a + b * samples * pixelRatio;
  r.target(
    'peak RSS, 16 × 512² step, batch 2, fp32 (extrapolated)',
    `≤ ${RSS_LIMIT_GB} GB`,
    RSS_LIMIT_GB,
    '<=',
    'GB',
    extrapolated / 1e9,
    `intercept + slope × ${samples} samples × ${pixelRatio}× pixels, from the 32×32 fits above; valid only because attention grows linearly in pixels (flash path, measured above); --full measures it`,
  );
}

async function fullStep(ctx: SuiteContext, r: Recorder): Promise<void> {
  const models = ctx.fullSize();
  const s = FULL_STEP_SHAPE;
  const p = await probeUNetMemory(models, s, 2);
  const ms = p.callMs[p.callMs.length - 1];
  r.fig(`full step: second UNet+motion call, ${describe(s)}`, 's', secs(ms), 'one run, fresh process');
  r.fig('full step: peak RSS (session + 2 calls)', 'GiB', p.peakBytes / GiB, rssSplit({ anon: p.anonBytes, file: p.fileBytes }));
  await reportRoofline(r, models, s, [ms], 'full step');
  r.target('peak RSS, 16 × 512² step, batch 2, fp32 (measured)', `≤ ${RSS_LIMIT_GB} GB`, RSS_LIMIT_GB, '<=', 'GB', p.peakBytes / 1e9);
}
