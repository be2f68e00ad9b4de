import { spawn } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeRequest, ProbeResult } from '../memory-probe';
import { unetCallMacs } from '../macs';
import type { BenchModels, UNetShape } from '../model-set';
import { noiseArray } from '../model-set';
import { GiB } from '../peak-rss';
import { measureMatMulRate } from '../roofline';
import type { QuantPlan } from '../../src/main/compiler/graph/quant-plan';
import type { Recorder, SuiteContext } from '../suite';

/** Refuses to start a multi-GB write onto a nearly full disk (the full-size weights file is 5.2 GB). */
export function requireFreeDisk(dir: string, bytes: number): void {
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  if (free < bytes) throw new Error(`Only ${(free / GiB).toFixed(1)} GiB free under ${dir}; the full-size suites need ${(bytes / GiB).toFixed(0)} GiB (use --scratch <dir>).`);
}

export const FULL_SIZE_DISK = 8 * GiB;

/** `--precision fp32|int8` (peer, profile): the studio UNet's int8 plan, default fp32 (graph/quant-plan.ts). */
export function quantPlanOption(ctx: Pick<SuiteContext, 'options'>): QuantPlan {
  const p = ctx.options.precision ?? 'fp32';
  if (p === 'fp32') return 'float';
  if (p === 'int8') return 'int8';
  throw new Error(`--precision wants fp32 or int8 (the labelled int8 CPU plan), not "${p}"`);
}

export function describe(s: UNetShape): string {
  return `batch ${s.batch} × ${s.frames} frames × ${s.latentHeight}×${s.latentWidth} latent (${s.latentWidth * 8}×${s.latentHeight * 8} px), ${s.tokens} tokens`;
}

/** One UNet call on random inputs (the same inputs for the same seed and shape); returns its duration in ms and its output. */
export async function unetCallOutput(models: BenchModels, s: UNetShape, seed = 1): Promise<{ ms: number; out: Float32Array }> {
  const n = s.batch * s.frames;
  const out = await models.unet(noiseArray(n * models.latentChannels * s.latentHeight * s.latentWidth, seed), 500, noiseArray(n * s.tokens * models.contextDim, seed + 1), s);
  return { ms: models.unetCalls[models.unetCalls.length - 1].ms, out };
}

/** One UNet call on random inputs; returns its duration in ms. */
export async function unetCall(models: BenchModels, s: UNetShape, seed = 1): Promise<number> {
  return (await unetCallOutput(models, s, seed)).ms;
}

export function callMacs(models: BenchModels, s: UNetShape): number {
  return unetCallMacs(models.source.configs.unet, models.source.configs.motion, s);
}

/**
 * Reports the achieved multiply-add rate of UNet calls of shape `s` (durations in ms) and the roofline target:
 * ≥ 50 % of this machine's measured fp32 MatMul rate.
 */
export async function reportRoofline(r: Recorder, models: BenchModels, s: UNetShape, callMs: readonly number[], label: string): Promise<void> {
  const macs = callMacs(models, s);
  const rates = callMs.map((ms) => macs / (ms / 1000) / 1e9);
  r.fig(`${label}: achieved rate`, 'GMAC/s', rates, `${(macs / 1e12).toFixed(2)} TMAC per call (analytic)`);
  // The reference is measured right after the calls, so both see the same load on a shared machine.
  const mm = await measureMatMulRate({ runs: 3 });
  r.fig(`${label}: MatMul rate right after`, 'GMAC/s', mm.gmacPerS, mm.shape);
  const fractions = rates.map((x) => (100 * x) / mm.median);
  r.fig(`${label}: fraction of MatMul rate`, '%', fractions, `of the MatMul median ${mm.median.toFixed(1)} GMAC/s (max ${mm.max.toFixed(1)})`);
  const sorted = [...fractions].sort((a, b) => a - b);
  r.target(`${label}: UNet+motion call vs MatMul rate`, '≥ 50 % of the measured fp32 MatMul rate', 50, '>=', '%', sorted[Math.floor(sorted.length / 2)]);
}

/** Peak RSS of a fresh process that loads `model` and runs it `calls` times on random inputs (bench/memory-probe.ts). Linux only. */
export async function probeMemory(req: ProbeRequest): Promise<ProbeResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'memory-probe.ts');
  // process.execArgv carries tsx's loader, so the child runs TypeScript like the parent
  const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  const line = out.split('\n').find((l) => l.startsWith('PROBE_RESULT '));
  if (code !== 0 || !line) throw new Error(`memory probe failed (exit ${code}): ${err.split('\n').filter((l) => /error/i.test(l)).slice(0, 3).join(' | ') || err.slice(-300)}`);
  return JSON.parse(line.slice('PROBE_RESULT '.length)) as ProbeResult;
}

/** probeMemory for the compiled UNet + motion graph of shape `s`. */
export async function probeUNetMemory(models: BenchModels, s: UNetShape, calls: number, cpuMemArena?: boolean): Promise<ProbeResult> {
  await models.compileUNet(s);
  const n = s.batch * s.frames;
  return probeMemory({
    model: models.unetModelPath(s),
    calls,
    cpuMemArena,
    inputs: [
      { name: 'sample', dims: [n, models.latentChannels, s.latentHeight, s.latentWidth] },
      { name: 'timestep', dims: [1] },
      { name: 'encoder_hidden_states', dims: [n, s.tokens, models.contextDim] },
    ],
  });
}
