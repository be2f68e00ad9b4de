import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { parseMotionConfig, parseUNetConfig } from '../../compiler/families/configs';
import { readNpyF32 } from '../../compiler/io/npy';
import type { WeightSet } from '../../compiler/io/tensor';
import { compareArrays } from '../compare';
import type { KindHandler } from '../types';
import { caseTimesteps, loadMotionAdapter, loadOriginalMotionModule, perLayout, readJson, runUNet, unetLayouts, type WeightLayout } from './unet2d';

/**
 * `unet_motion` cases: the UNet of `weights.unet` inflated with the motion modules of `weights.motion_adapter`
 * (diffusers MotionAdapter names) and of `weights.motion_module_original` (AnimateDiff's original names),
 * with the motion GroupNorm of `groupnorm` (per_frame | across_frames). The case's video tensors are
 * (B, C, F, H, W); the graph takes frames folded into the batch (B·F, C, H, W), so inputs are folded and the
 * output unfolded here. The text embedding is `encoder_hidden_states_repeated.npy` (B·F rows).
 */

/** (B, C, F, H, W) → (B·F, C, H, W), row b·F + f. */
export function foldFrames(x: { shape: number[]; data: Float32Array }): { shape: number[]; data: Float32Array } {
  const [b, c, f, h, w] = x.shape;
  const hw = h * w;
  const out = new Float32Array(x.data.length);
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++)
      for (let fi = 0; fi < f; fi++) out.set(x.data.subarray(((bi * c + ci) * f + fi) * hw, ((bi * c + ci) * f + fi + 1) * hw), ((bi * f + fi) * c + ci) * hw);
  return { shape: [b * f, c, h, w], data: out };
}

/** (B·F, C, H, W) → (B, C, F, H, W). */
export function unfoldFrames(data: Float32Array, shape: number[], frames: number): Float32Array {
  const [n, c, h, w] = shape;
  const b = n / frames;
  const hw = h * w;
  const out = new Float32Array(data.length);
  for (let bi = 0; bi < b; bi++)
    for (let fi = 0; fi < frames; fi++)
      for (let ci = 0; ci < c; ci++) out.set(data.subarray(((bi * frames + fi) * c + ci) * hw, ((bi * frames + fi) * c + ci + 1) * hw), ((bi * c + ci) * frames + fi) * hw);
  return out;
}

function weightPath(dir: string, weights: Record<string, unknown>, key: string): string | undefined {
  const p = weights[key];
  return typeof p === 'string' ? resolve(dir, p) : undefined;
}

export const unetMotionHandler: KindHandler = {
  kind: 'unet_motion',
  async run(ctx) {
    const weights = (ctx.files.weights ?? {}) as Record<string, unknown>;
    const groupnorm = ctx.files.groupnorm;
    if (groupnorm !== 'per_frame' && groupnorm !== 'across_frames') {
      throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json groupnorm must be per_frame or across_frames, not ${String(groupnorm)}.`);
    }
    const unetPath = weightPath(ctx.dir, weights, 'unet');
    const unetCfgPath = weightPath(ctx.dir, weights, 'unet_config');
    const mcfgPath = weightPath(ctx.dir, weights, 'motion_adapter_config');
    if (!unetPath || !unetCfgPath || !mcfgPath) throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json weights needs unet, unet_config and motion_adapter_config.`);
    const cfg = parseUNetConfig(readJson(unetCfgPath));
    const mcfg = parseMotionConfig(readJson(mcfgPath));
    const timesteps = caseTimesteps(ctx);
    const video = readNpyF32(join(ctx.dir, 'sample.npy'));
    const frames = video.shape[2];
    const sample = foldFrames(video);
    const context = readNpyF32(join(ctx.dir, 'encoder_hidden_states_repeated.npy'));
    const refs = timesteps.map((t) => readNpyF32(join(ctx.dir, `noise_pred_t${t}.npy`)).data);

    // UNet layouts: the diffusers file, and an LDM single file when the case names one.
    const ldmMatch = typeof ctx.files.unet_weights === 'string' ? /(\S+\.safetensors)\s*\(LDM\)/.exec(ctx.files.unet_weights) : null;
    const ldmPath = weightPath(ctx.dir, weights, 'unet_ldm') ?? (ldmMatch ? resolve(ctx.dir, ldmMatch[1]) : undefined);
    const unets: WeightLayout[] = [
      ...unetLayouts(dirname(unetPath), unetPath.slice(dirname(unetPath).length + 1), undefined),
      ...(ldmPath && existsSync(ldmPath) ? unetLayouts(dirname(ldmPath), undefined, ldmPath.slice(dirname(ldmPath).length + 1)) : []),
    ];
    const motions: { label: string; path: string; load: (p: string) => { weights: WeightSet; close(): void } }[] = [];
    const adapter = weightPath(ctx.dir, weights, 'motion_adapter');
    const original = weightPath(ctx.dir, weights, 'motion_module_original');
    if (adapter) motions.push({ label: 'adapter', path: adapter, load: loadMotionAdapter });
    if (original) motions.push({ label: 'animatediff', path: original, load: loadOriginalMotionModule });
    if (unets.length === 0 || motions.length === 0) throw new StudioError('FILE_NOT_FOUND', `${ctx.name}: no UNet or motion-module weights found.`);

    // Every motion layout with the diffusers UNet, and every further UNet layout with the original motion
    // module (the product's usual pairing: a single-file checkpoint plus an AnimateDiff/AnimateLCM file).
    const combos = [
      ...motions.map((m) => ({ unet: unets[0], motion: m })),
      ...unets.slice(1).map((u) => ({ unet: u, motion: motions[motions.length - 1] })),
    ];
    for (const { unet, motion } of combos) {
      const label = `${unet.label}+${motion.label} ${groupnorm}`;
      await perLayout(ctx, label, async () => {
        const u = unet.load(unet.path);
        try {
          const m = motion.load(motion.path);
          try {
            const outs = await runUNet(u.weights, cfg, { sample, context, timesteps }, {
              workDir: ctx.workDir,
              modelFile: `unet_motion_${unet.label}_${motion.label}.onnx`,
              motion: { w: m.weights, cfg: mcfg, frames, groupnorm },
              target: ctx.target,
            });
            outs.forEach((o, i) => ctx.report(compareArrays(ctx.name, `${label} noise_pred_t${timesteps[i]}`, unfoldFrames(o, sample.shape, frames), refs[i])));
          } finally {
            m.close();
          }
        } finally {
          u.close();
        }
      });
    }
  },
};
