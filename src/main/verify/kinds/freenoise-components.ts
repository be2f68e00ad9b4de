import { join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { ContextNoise, ContextWeighting } from '../../../shared/domain/context-windows';
import { parseMotionConfig, parseUNetConfig } from '../../compiler/families/configs';
import { windowFusionPlan, type ContextWindowSpec } from '../../compiler/families/context-windows';
import { sinusoidalTable, windowedTemporalBlock } from '../../compiler/families/motion';
import { GraphBuilder } from '../../compiler/graph/builder';
import type { WeightSet } from '../../compiler/io/tensor';
import { freeNoiseLatents } from '../../engine/freenoise/initial-noise';
import { interpolateKeyframes, keyframeSchedule } from '../../engine/freenoise/prompt-travel';
import { TorchCpuGenerator } from '../../engine/noise/torch-randn';
import { compareArrays } from '../compare';
import { f32, graphOptionsFor, npyF32, openWeightsFile, runGraphOnce } from '../run-graph';
import type { Comparison, KindHandler, VerifyContext } from '../types';
import { foldFrames, unfoldFrames } from './unet-motion';
import { loadDiffusersUNet, loadMotionAdapter, readJson, runUNet } from './unet2d';

/**
 * kind `freenoise_components`: FreeNoise's parts one by one, all in diffusers mode (what the fixture recorded):
 *  1. latent preparation (`latent_preparation[]`): our initial noise from the case's seed must equal diffusers'
 *     bit for bit (randn, randperm draws, shuffle / repeat / random, given latents);
 *  2. prompt interpolation (`prompt_interpolation[]`): keyframe schedule (sorted, last frame appended) and the
 *     per-frame lerp over the stub encoder's table (`prompt_table.npy`), exact;
 *  3. one FreeNoise motion transformer block (`block.cases[]`) compiled alone, on the case's input rows;
 *  4. the whole UNet with windows in every motion block (`unet.cases[]`).
 */

const STUB_ROWS = ['', 'A', 'B', 'C', 'N0', 'N1', 'N2'];

function exact(ctx: VerifyContext, what: string, ours: ArrayLike<number>, ref: ArrayLike<number>): Comparison {
  return compareArrays(ctx.name, what, ours, ref, { atol: 0, rtol: 0 });
}

function latentCases(ctx: VerifyContext): void {
  const cases = ctx.files.latent_preparation as Array<Record<string, unknown>> | undefined;
  for (const c of cases ?? []) {
    const shape = c.shape as number[];
    const [B, C, F, h, w] = shape;
    const arg = typeof c.latents_argument === 'string' ? /^(\S+\.npy)/.exec(c.latents_argument)?.[1] : undefined;
    const given = arg ? npyF32(join(ctx.dir, arg)) : undefined;
    const gen = new TorchCpuGenerator(BigInt(c.generator_seed as number));
    const ours = freeNoiseLatents(
      gen,
      { batch: B, channels: C, frames: F, height: h, width: w },
      { length: c.context_length as number, stride: c.context_stride as number, noise: c.noise_type as ContextNoise, mode: 'diffusers' },
      given ? { data: given.data, frames: given.shape[2] } : undefined,
    );
    ctx.report(exact(ctx, `latents${String(c.index)} ${String(c.noise_type)} F${F} L${String(c.context_length)} s${String(c.context_stride)}${arg ? ' given' : ''}`, ours, npyF32(join(ctx.dir, c.output_file as string)).data));
  }
}

/** A diffusers prompt argument (str, {frame: str} or null) as the studio's prompt + keyframes. */
function schedule(p: unknown, frames: number): ReturnType<typeof keyframeSchedule> {
  if (p === null || p === undefined) return keyframeSchedule('', [], frames);
  if (typeof p === 'string') return keyframeSchedule(p, [], frames);
  const d = p as Record<string, string>;
  const keyframes = Object.entries(d)
    .filter(([k]) => k !== '0')
    .map(([k, prompt]) => ({ frame: Number(k), prompt }));
  return keyframeSchedule(d['0'] ?? '', keyframes, frames);
}

function promptCases(ctx: VerifyContext): void {
  const cases = ctx.files.prompt_interpolation as Array<Record<string, unknown>> | undefined;
  if (!cases?.length) return;
  const table = npyF32(join(ctx.dir, 'prompt_table.npy'));
  const per = table.data.length / table.shape[0];
  const row = (text: string): Float32Array => {
    const i = STUB_ROWS.indexOf(text);
    if (i < 0) throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: prompt "${text}" is not in the stub table.`);
    return table.data.slice(i * per, (i + 1) * per);
  };
  for (const c of cases) {
    const F = c.num_frames as number;
    const sides: Array<[string, unknown, unknown, unknown]> = [['prompt', c.prompt, c.keyframes, c.embeds_file]];
    if (c.do_classifier_free_guidance === true) sides.push(['negative', c.negative_prompt, c.negative_keyframes, c.negative_embeds_file]);
    for (const [side, prompt, refKeys, file] of sides) {
      const s = schedule(prompt, F);
      const keysOk = JSON.stringify(s.frames) === JSON.stringify(refKeys);
      ctx.report({ case: ctx.name, what: `prompts${String(c.index)} ${side} keyframes`, maxAbs: keysOk ? 0 : Infinity, relL2: keysOk ? 0 : 1, pass: keysOk, note: keysOk ? undefined : `got ${s.frames.join(',')}, expected ${JSON.stringify(refKeys)}` });
      const ours = interpolateKeyframes(s.prompts.map(row), s.frames, F);
      ctx.report(exact(ctx, `prompts${String(c.index)} ${side} per-frame embeds`, ours, npyF32(join(ctx.dir, file as string)).data));
    }
  }
}

/** The windowed block alone: input rows [R, F, C] → output, through our graph (also test:gpu's windowed-block check). */
export async function windowedBlockCases(ctx: VerifyContext): Promise<void> {
  const block = ctx.files.block as { module: string; weights: { file: string; key_prefix: string }; heads: number; dim: number; cases: Array<Record<string, unknown>> } | undefined;
  if (!block) return;
  const weights = openWeightsFile(resolve(ctx.dir, block.weights.file));
  try {
    const prefix = block.weights.key_prefix.replace(/\.$/, '');
    for (const c of block.cases) {
      const spec: ContextWindowSpec = { length: c.context_length as number, stride: c.context_stride as number, weighting: c.weighting_scheme as ContextWeighting, mode: 'diffusers' };
      const files = c.files as Record<string, string>;
      const input = npyF32(join(ctx.dir, files.input));
      const [R, F, C] = input.shape;
      const plan = windowFusionPlan(F, spec);
      if (!plan) throw new Error('diffusers mode always has a plan');
      const opts = graphOptionsFor(ctx.target);
      const g = new GraphBuilder(`freenoise_block_${String(c.index)}`, opts.floatType, opts.attention, opts.trig);
      const x = g.input('x', opts.floatType, [R, F, C]);
      const pe = g.constFloat(sinusoidalTable(spec.length, C), [spec.length, C], 'pos_embed');
      g.output(windowedTemporalBlock(g, weights as WeightSet, prefix, x, [R, F, C], pe, block.heads, plan), 'y', opts.floatType, [R, F, C]);
      const out = await runGraphOnce(g.build(), ctx.workDir, { x: { type: 'float32', dims: [R, F, C], data: input.data } }, ctx.target);
      ctx.report(compareArrays(ctx.name, `block${String(c.index)} F${F} L${spec.length} s${spec.stride} ${spec.weighting}`, f32(out.y), npyF32(join(ctx.dir, files.output)).data));
    }
  } finally {
    weights.close();
  }
}

async function unetCases(ctx: VerifyContext): Promise<void> {
  const u = ctx.files.unet as { components: Record<string, string>; cases: Array<Record<string, unknown>> } | undefined;
  if (!u) return;
  const comp = (k: string): string => resolve(ctx.dir, u.components[k]);
  const cfg = parseUNetConfig(readJson(comp('unet_config')));
  const mcfg = parseMotionConfig(readJson(comp('motion_adapter_config')));
  const unet = loadDiffusersUNet(comp('unet'));
  const motion = loadMotionAdapter(comp('motion_adapter'));
  try {
    for (const c of u.cases) {
      const files = c.files as Record<string, string>;
      const video = npyF32(join(ctx.dir, files.sample));
      const frames = video.shape[2];
      const sample = foldFrames(video);
      const ehs = npyF32(join(ctx.dir, files.encoder_hidden_states));
      // The case's text states are per video (B, 77, D); the graph takes one row per folded frame.
      const context = ehs.shape.length === 3 && ehs.shape[0] * frames === sample.shape[0] ? repeatRows(ehs, frames) : ehs;
      const spec: ContextWindowSpec = { length: c.context_length as number, stride: c.context_stride as number, weighting: c.weighting_scheme as ContextWeighting, mode: 'diffusers' };
      const groupnorm = c.groupnorm === 'per_frame' ? 'per_frame' : 'across_frames';
      const [out] = await runUNet(unet.weights, cfg, { sample, context, timesteps: [c.timestep as number] }, {
        workDir: ctx.workDir,
        modelFile: `unet_freenoise_${String(c.index)}.onnx`,
        motion: { w: motion.weights, cfg: mcfg, frames, groupnorm, windows: windowFusionPlan(frames, spec) },
        target: ctx.target,
      });
      ctx.report(compareArrays(ctx.name, `unet${String(c.index)} F${frames} L${spec.length} s${spec.stride} ${spec.weighting} ${groupnorm} noise_pred`, unfoldFrames(out, sample.shape, frames), npyF32(join(ctx.dir, files.noise_pred)).data));
    }
  } finally {
    motion.close();
    unet.close();
  }
}

function repeatRows(x: { shape: number[]; data: Float32Array }, times: number): { shape: number[]; data: Float32Array } {
  const [b, t, d] = x.shape;
  const per = t * d;
  const out = new Float32Array(b * times * per);
  for (let i = 0; i < b; i++) for (let f = 0; f < times; f++) out.set(x.data.subarray(i * per, (i + 1) * per), (i * times + f) * per);
  return { shape: [b * times, t, d], data: out };
}

export const freenoiseComponentsHandler: KindHandler = {
  kind: 'freenoise_components',
  async run(ctx) {
    latentCases(ctx);
    promptCases(ctx);
    await windowedBlockCases(ctx);
    await unetCases(ctx);
  },
};
