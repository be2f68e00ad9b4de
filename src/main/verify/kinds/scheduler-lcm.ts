import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy, type NpyArray } from '../../compiler/io/npy';
import { LCMScheduler } from '../../engine/schedulers/lcm';
import { compareArrays } from '../compare';
import type { KindHandler, VerifyContext } from '../types';

/**
 * `kind: scheduler_lcm` (test/fixtures/reference/README.md, "scheduler_lcm"). Two case shapes share the kind:
 * - a variant folder (`trajectories` in files.json): its `config.json` → betas and ᾱ;
 * - a trajectory folder (`num_inference_steps`, `scheduler_config`): timesteps, then every step replayed with the
 *   recorded model outputs and injected noise, comparing x0 (denoised) and the next sample.
 * The scheduler replays torch's float32 arithmetic, so the bar is 1e-6 (absolute, plus 1e-6 relative for the
 * trajectories' large latents); in practice it matches to the bit.
 */
const TOL = { atol: 1e-6, rtol: 1e-6 };

function npy(dir: string, file: string): NpyArray {
  // Copy into a fresh Uint8Array: the bytes must own their ArrayBuffer for the typed-array views.
  return parseNpy(new Uint8Array(readFileSync(join(dir, file))), join(dir, file));
}

function asNumbers(a: NpyArray): number[] {
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v));
}

function f32(a: NpyArray): Float32Array {
  if (!(a.data instanceof Float32Array)) throw new Error(`expected float32, got ${a.descr}`);
  return a.data;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

async function run(ctx: VerifyContext): Promise<void> {
  const { dir, name, files } = ctx;
  if (Array.isArray(files.trajectories)) {
    const sched = LCMScheduler.fromDiffusersConfig(readJson(join(dir, 'config.json')));
    ctx.report(compareArrays(name, 'betas', sched.betas, f32(npy(dir, 'betas.npy')), TOL));
    ctx.report(compareArrays(name, 'alphas_cumprod', sched.alphasCumprod, f32(npy(dir, 'alphas_cumprod.npy')), TOL));
    return;
  }
  const configRel = typeof files.scheduler_config === 'string' ? files.scheduler_config : '../config.json';
  const steps = Number(files.num_inference_steps);
  const sched = LCMScheduler.fromDiffusersConfig(readJson(join(dir, configRel)));
  sched.setTimesteps(steps);
  const refTimesteps = asNumbers(npy(dir, 'timesteps.npy'));
  const tsMatch = refTimesteps.length === sched.timesteps.length && refTimesteps.every((t, i) => t === sched.timesteps[i]);
  ctx.report({
    ...compareArrays(name, 'timesteps', sched.timesteps, refTimesteps, { atol: 0, rtol: 0 }),
    pass: tsMatch,
    note: `[${sched.timesteps.join(', ')}]`,
  });

  const init = f32(npy(dir, 'sample_init.npy'));
  const outputs = f32(npy(dir, 'model_outputs.npy'));
  const noises = f32(npy(dir, 'noises.npy'));
  const denoisedRef = f32(npy(dir, 'denoised.npy'));
  const prevRef = f32(npy(dir, 'prev_samples.npy'));
  const n = init.length;
  const scalarsRef = readJson(join(dir, 'steps.json')) as unknown as Array<Record<string, number>>;

  let sample = init;
  for (let i = 0; i < steps; i++) {
    const noise = sched.needsNoise(i) ? noises.subarray(i * n, (i + 1) * n) : undefined;
    const out = sched.step(outputs.subarray(i * n, (i + 1) * n), i, sample, noise);
    const s = sched.stepScalars(i);
    const r = scalarsRef[i];
    const ours = [s.timestep, s.prevTimestep, s.alphaProdT, s.alphaProdTPrev, s.cSkip, s.cOut];
    const theirs = [r.timestep, r.prev_timestep, r.alpha_prod_t, r.alpha_prod_t_prev, r.c_skip, r.c_out];
    ctx.report(compareArrays(name, `step${i} scalars (t, t_prev, ᾱ_t, ᾱ_prev, c_skip, c_out)`, ours, theirs, TOL));
    ctx.report(compareArrays(name, `step${i} denoised`, out.denoised, denoisedRef.subarray(i * n, (i + 1) * n), TOL));
    ctx.report(compareArrays(name, `step${i} prev_sample`, out.prevSample, prevRef.subarray(i * n, (i + 1) * n), TOL));
    sample = out.prevSample;
  }
}

export const schedulerLcmHandler: KindHandler = { kind: 'scheduler_lcm', noGraph: true, run };
