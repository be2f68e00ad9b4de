import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { buildUNetGraph, type MotionInflation } from '../../compiler/families/unet';
import { parseUNetConfig, type UNetConfig } from '../../compiler/families/configs';
import { emitModel } from '../../compiler/graph/emit';
import { readNpyF32 } from '../../compiler/io/npy';
import type { WeightSet } from '../../compiler/io/tensor';
import { openCanonical } from '../canonical';
import { createSession, f32Tensor } from '../../engine/runtime/session';
import { compareArrays } from '../compare';
import { graphOptionsFor } from '../run-graph';
import { CPU_FP32, type KindHandler, type VerifyContext, type VerifyTarget } from '../types';

/**
 * `unet2d` cases: the case's UNet, built from each weight layout it provides (diffusers names in
 * `weights.safetensors`, LDM single-file names in `weights_ldm.safetensors`), run on the target provider at every
 * timestep of `inputs.timesteps`, and compared with `noise_pred_t<t>.npy`.
 */

export interface UNetRunInputs {
  /** [N, C, h, w], frames folded into the batch (row b·F + f). */
  sample: { shape: number[]; data: Float32Array };
  /** [N, 77·k, cross_dim]. */
  context: { shape: number[]; data: Float32Array };
  timesteps: number[];
}

/** Builds the UNet graph for `inputs`' shapes, runs it once per timestep, and returns noise_pred per timestep. */
export async function runUNet(
  w: WeightSet,
  cfg: UNetConfig,
  inputs: UNetRunInputs,
  opts: { workDir: string; modelFile: string; motion?: MotionInflation; target?: VerifyTarget },
): Promise<Float32Array[]> {
  const [n, , hh, ww] = inputs.sample.shape;
  const frames = opts.motion?.frames ?? 1;
  const graph = buildUNetGraph(w, cfg, { batch: n / frames, latentHeight: hh, latentWidth: ww, contextLength: inputs.context.shape[1], motion: opts.motion, ...graphOptionsFor(opts.target ?? CPU_FP32) });
  const { modelPath } = emitModel(graph, { dir: opts.workDir, modelFile: opts.modelFile, weightsFile: `${opts.modelFile}.weights` });
  const session = await createSession(modelPath, { providers: [(opts.target ?? CPU_FP32).provider] });
  try {
    const out: Float32Array[] = [];
    for (const t of inputs.timesteps) {
      const r = await session.run({
        sample: f32Tensor(inputs.sample.data, inputs.sample.shape),
        timestep: f32Tensor(Float32Array.of(t), [1]),
        encoder_hidden_states: f32Tensor(inputs.context.data, inputs.context.shape),
      });
      out.push(r.noise_pred.data as Float32Array);
    }
    return out;
  } finally {
    await session.dispose();
  }
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

export function caseTimesteps(ctx: VerifyContext): number[] {
  const inputs = ctx.files.inputs as { timesteps?: unknown } | undefined;
  const ts = inputs?.timesteps;
  if (!Array.isArray(ts) || ts.length === 0 || !ts.every((t) => typeof t === 'number')) {
    throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json has no inputs.timesteps list.`);
  }
  return ts as number[];
}

/** The UNet weight layouts a case may provide, as (label, file name, how its names become canonical). */
export interface WeightLayout {
  label: string;
  path: string;
  load(path: string): { weights: WeightSet; close(): void };
}

export const unet2dHandler: KindHandler = {
  kind: 'unet2d',
  async run(ctx) {
    const cfg = parseUNetConfig(readJson(join(ctx.dir, 'config.json')));
    const timesteps = caseTimesteps(ctx);
    const sample = readNpyF32(join(ctx.dir, 'sample.npy'));
    const context = readNpyF32(join(ctx.dir, 'encoder_hidden_states.npy'));
    const refs = timesteps.map((t) => readNpyF32(join(ctx.dir, `noise_pred_t${t}.npy`)).data);
    const layouts = unetLayouts(ctx.dir, 'weights.safetensors', 'weights_ldm.safetensors');
    if (layouts.length === 0) throw new StudioError('FILE_NOT_FOUND', `${ctx.name}: no UNet weight file (weights.safetensors / weights_ldm.safetensors).`);
    for (const layout of layouts) {
      await perLayout(ctx, layout.label, async () => {
        const { weights, close } = layout.load(layout.path);
        try {
          const outs = await runUNet(weights, cfg, { sample, context, timesteps }, { workDir: ctx.workDir, modelFile: `unet2d_${layout.label}.onnx`, target: ctx.target });
          outs.forEach((o, i) => ctx.report(compareArrays(ctx.name, `${layout.label} noise_pred_t${timesteps[i]}`, o, refs[i])));
        } finally {
          close();
        }
      });
    }
  },
};

/** The diffusers-named and LDM-named UNet files among `diffusersFile` / `ldmFile` that exist in `dir`. */
export function unetLayouts(dir: string, diffusersFile: string | undefined, ldmFile: string | undefined): WeightLayout[] {
  const out: WeightLayout[] = [];
  if (diffusersFile && existsSync(join(dir, diffusersFile))) out.push({ label: 'diffusers', path: join(dir, diffusersFile), load: loadDiffusersUNet });
  if (ldmFile && existsSync(join(dir, ldmFile))) out.push({ label: 'ldm', path: join(dir, ldmFile), load: loadLdmUNet });
  return out;
}

/** A UNet2DConditionModel file under diffusers names, through the canonicaliser (as the studio loads it). */
export function loadDiffusersUNet(path: string): { weights: WeightSet; close(): void } {
  return openCanonical(path, 'unet');
}

/** A MotionAdapter file under diffusers names. */
export function loadMotionAdapter(path: string): { weights: WeightSet; close(): void } {
  return openCanonical(path, 'motion');
}

/** An LDM/CompVis single-file checkpoint's UNet under diffusers names. */
export function loadLdmUNet(path: string): { weights: WeightSet; close(): void } {
  return openCanonical(path, 'unet');
}

/** An AnimateDiff/AnimateLCM original-layout motion module under MotionAdapter names. */
export function loadOriginalMotionModule(path: string): { weights: WeightSet; close(): void } {
  return openCanonical(path, 'motion');
}

/**
 * Runs one layout's comparisons; a layout that cannot be built or run reports one failing line and the other
 * layouts still run, so every layout gets its own line.
 */
export async function perLayout(ctx: VerifyContext, label: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    ctx.report({ case: ctx.name, what: label, maxAbs: Number.NaN, relL2: Number.NaN, pass: false, note: e instanceof Error ? e.message : String(e) });
  }
}
