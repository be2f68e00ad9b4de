import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { parseClipTextConfig, parseUNetConfig } from '../../compiler/families/configs';
import { openSafetensors } from '../../compiler/io/safetensors';
import type { WeightSet } from '../../compiler/io/tensor';
import { applyLoraStack } from '../../engine/lora/stack';
import { canonicalizeForVerify } from '../canonical';
import { compareArrays } from '../compare';
import { f32, npyF32, npyI64, openWeightsFile, runGraphOnce } from '../run-graph';
import type { Comparison, KindHandler, VerifyContext } from '../types';
import { parseMotionConfig } from '../../compiler/families/configs';
import { foldFrames, unfoldFrames } from './unet-motion';
import { loadMotionAdapter, runUNet } from './unet2d';

/**
 * kind `lora`: for every run in files.json `runs` (any formats, multipliers, stacks), apply the stack to the
 * case's base UNet / text encoder with the engine's own applyLoraStack, then compare
 *   (a) merged weights with `unet_merged_changed_weights*` / `te_merged_changed_weights*`: every changed tensor,
 *       and the set of changed tensors itself (nothing else may change, nothing may be missed);
 *   (b) the UNet's noise_pred at every timestep and the text encoder's last hidden state, run through the same
 *       graph builders and onnxruntime path as the plain unet2d / clip_text cases.
 */
interface LoraRun {
  name: string;
  /** Motion cases: the motion-module GroupNorm of this run. */
  groupnorm?: string;
  loras: Array<{ file: string; format?: string; multiplier: number }>;
  outputs: {
    noise_pred?: Record<string, string>;
    te_last_hidden_state?: string;
    unet_merged_changed_weights?: string;
    te_merged_changed_weights?: string;
  };
}

interface LoraBase {
  unet: string;
  unet_config: string;
  text_encoder?: string;
  text_encoder_config?: string;
  /** MotionLoRA cases: the model is UNetMotionModel.from_unet2d(unet, adapter). */
  motion_adapter?: string;
  motion_adapter_config?: string;
}

function parseRuns(ctx: VerifyContext): { base: LoraBase; runs: LoraRun[] } {
  const base = ctx.files.base as LoraBase | undefined;
  const runs = ctx.files.runs as LoraRun[] | undefined;
  if (!base || typeof base.unet !== 'string' || !Array.isArray(runs) || runs.length === 0) {
    throw new StudioError('FORMAT_MISMATCH', `${ctx.name}: files.json needs base.unet and a non-empty runs list for kind lora.`);
  }
  return { base, runs };
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Several merged components seen as one (their canonical names are disjoint: UNet and motion modules). */
function joinMerged(parts: Array<{ touched(): string[]; get: WeightSet['get'] } | undefined>): { touched(): string[]; get: WeightSet['get'] } {
  const present = parts.filter((p): p is NonNullable<typeof p> => p !== undefined);
  return {
    touched: () => present.flatMap((p) => p.touched()),
    get: (n) => {
      for (const p of present) if (p.touched().includes(n)) return p.get(n);
      return present[0]?.get(n);
    },
  };
}

/** Compares every tensor of `refPath` with `merged`, and the changed-set with the reference's key set. */
export function compareMergedWeights(caseName: string, what: string, merged: { touched(): string[]; get: WeightSet['get'] }, refPath: string): Comparison {
  const ref = openSafetensors(refPath);
  try {
    const refNames = ref.names();
    const touched = new Set(merged.touched());
    const missing = refNames.filter((n) => !touched.has(n));
    const extra = [...touched].filter((n) => ref.get(n) === undefined);
    const actual: number[] = [];
    const expected: number[] = [];
    const perTensorFails: string[] = [];
    for (const n of refNames) {
      const want = ref.get(n)?.readF32();
      const got = merged.get(n)?.readF32();
      if (!want || !got) continue;
      const c = compareArrays(caseName, n, got, want);
      if (!c.pass) perTensorFails.push(n);
      for (let i = 0; i < want.length; i++) {
        expected.push(want[i]);
        actual.push(i < got.length ? got[i] : Number.NaN);
      }
    }
    const c = compareArrays(caseName, `${what} (${refNames.length} changed tensors)`, actual, expected);
    const notes: string[] = [];
    if (missing.length) notes.push(`not changed by us: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5})` : ''}`);
    if (extra.length) notes.push(`changed only by us: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ` (+${extra.length - 5})` : ''}`);
    if (perTensorFails.length) notes.push(`outside tolerance: ${perTensorFails.slice(0, 5).join(', ')}`);
    return { ...c, pass: c.pass && missing.length === 0 && extra.length === 0, note: notes.length ? notes.join('; ') : undefined };
  } finally {
    ref.close();
  }
}

export const loraHandler: KindHandler = {
  kind: 'lora',
  async run(ctx) {
    const { base, runs } = parseRuns(ctx);
    const unetFile = openWeightsFile(join(ctx.dir, base.unet));
    const teFile = base.text_encoder ? openWeightsFile(join(ctx.dir, base.text_encoder)) : undefined;
    const motionFile = base.motion_adapter ? loadMotionAdapter(join(ctx.dir, base.motion_adapter)) : undefined;
    try {
      const unet = canonicalizeForVerify(unetFile, 'unet');
      const textEncoder = teFile ? canonicalizeForVerify(teFile, 'text_encoder') : undefined;
      const unetCfg = parseUNetConfig(readJson(join(ctx.dir, base.unet_config)));
      const timesteps = Object.keys(runs[0].outputs.noise_pred ?? {}).map(Number);
      const sample = existsSync(join(ctx.dir, 'sample.npy')) ? npyF32(join(ctx.dir, 'sample.npy')) : undefined;
      const inputs = (ctx.files.inputs ?? {}) as { encoder_hidden_states?: string };
      const contextFile = typeof inputs.encoder_hidden_states === 'string' ? inputs.encoder_hidden_states : 'encoder_hidden_states.npy';
      const context = existsSync(join(ctx.dir, contextFile)) ? npyF32(join(ctx.dir, contextFile)) : undefined;
      const motionCfg = motionFile && base.motion_adapter_config ? parseMotionConfig(readJson(join(ctx.dir, base.motion_adapter_config))) : undefined;
      // Motion cases: the sample is a video (B, C, F, H, W); the graph takes frames folded into the batch.
      const video = motionFile && sample ? sample : undefined;
      const frames = video ? video.shape[2] : 1;
      const unetSample = video ? foldFrames(video) : sample;
      const ids = existsSync(join(ctx.dir, 'te_input_ids.npy')) ? npyI64(join(ctx.dir, 'te_input_ids.npy')) : undefined;

      for (const run of runs) {
        const label = `${run.name}`;
        const applied = applyLoraStack(
          { unet, text_encoder: textEncoder, motion: motionFile?.weights },
          run.loras.map((l) => ({ file: join(ctx.dir, l.file), weight: l.multiplier })),
        );
        for (const r of applied.reports) {
          if (r.unmatched.length > 0) {
            ctx.report({ case: ctx.name, what: `${label} coverage ${r.file.split('/').pop()}`, maxAbs: Number.NaN, relL2: Number.NaN, pass: false, note: r.message });
          }
        }
        // (a) merged weights
        const o = run.outputs;
        if (o.unet_merged_changed_weights && applied.unet) {
          const merged = applied.motion ? joinMerged([applied.unet, applied.motion]) : applied.unet;
          ctx.report(compareMergedWeights(ctx.name, `${label} unet merged weights`, merged, join(ctx.dir, o.unet_merged_changed_weights)));
        }
        if (o.te_merged_changed_weights && applied.text_encoder) {
          ctx.report(compareMergedWeights(ctx.name, `${label} te merged weights`, applied.text_encoder, join(ctx.dir, o.te_merged_changed_weights)));
        }
        // (b) forward passes through the compiled graphs
        if (o.noise_pred && applied.unet && unetSample && context) {
          const ts = Object.keys(o.noise_pred).map(Number);
          const groupnorm = run.groupnorm === 'per_frame' ? 'per_frame' : 'across_frames';
          const motion = applied.motion && motionCfg ? { w: applied.motion, cfg: motionCfg, frames, groupnorm: groupnorm as 'per_frame' | 'across_frames' } : undefined;
          const outs = await runUNet(applied.unet, unetCfg, { sample: unetSample, context, timesteps: ts.length ? ts : timesteps }, { workDir: join(ctx.workDir, `lora_${run.name}`), modelFile: 'unet_lora.onnx', motion, target: ctx.target });
          outs.forEach((out, i) => {
            const ref = npyF32(join(ctx.dir, (o.noise_pred as Record<string, string>)[String(ts[i])])).data;
            ctx.report(compareArrays(ctx.name, `${label} noise_pred_t${ts[i]}`, video ? unfoldFrames(out, unetSample.shape, frames) : out, ref));
          });
        }
        if (o.te_last_hidden_state && applied.text_encoder && ids && base.text_encoder_config) {
          const cfg = parseClipTextConfig(readJson(join(ctx.dir, base.text_encoder_config)));
          const [B, S] = ids.shape;
          const graph = buildClipTextGraph(applied.text_encoder, cfg, { batch: B, seqLen: S, floatType: ctx.target.precision });
          const out = await runGraphOnce(graph, ctx.workDir, { input_ids: { type: 'int64', dims: [B, S], data: ids.data } }, ctx.target);
          ctx.report(compareArrays(ctx.name, `${label} te last_hidden_state`, f32(out.last_hidden_state), npyF32(join(ctx.dir, o.te_last_hidden_state)).data));
        }
      }
    } finally {
      unetFile.close();
      teFile?.close();
      motionFile?.close();
    }
  },
};
