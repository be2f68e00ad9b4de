import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readIndex, WEIGHTS_FILE } from '../src/main/compiler/compile';
import { buildControlNetGraph, controlResidualShapes } from '../src/main/compiler/families/controlnet';
import type { UNetConfig } from '../src/main/compiler/families/configs';
import type { ShapeMap } from '../src/main/compiler/families/parameter-shapes';
import { buildUNetGraph } from '../src/main/compiler/families/unet';
import { attentionPlanFor } from '../src/main/compiler/graph/attention-plan';
import type { GraphIR } from '../src/main/compiler/graph/builder';
import { collectWeights, emitGraphFile, writeWeightsFile, type WeightIndex } from '../src/main/compiler/graph/emit';
import type { WeightSet } from '../src/main/compiler/io/tensor';
import { createSession, f32Tensor, type HostTensor } from '../src/main/engine/runtime/session';
import type { ProviderName } from '../src/shared/domain/generation';
import { fusedWeightKey, fuseControlNets } from './fused-controlnet';
import type { ProbeModel } from './memory-probe';
import { noiseArray, streamingRandomWeights, type BenchModels, type UNetShape } from './model-set';

/**
 * The two ControlNet designs of issue 16, compiled side by side next to a BenchModels UNet + motion entry:
 * shipped — the ControlNet graph + the UNet graph with residual inputs, two sessions; fused — one graph holding
 * the ControlNet(s) and the UNet (fused-controlnet.ts). Both read the same two weights files (the entry's
 * weights.bin and controlnet.bin beside it), so they differ only in the graph boundary.
 */

/** SD1.5 ControlNet v1.1's hint block (controlnet_cond_embedding): conv_in → 16, blocks 16→32→96→256, conv_out. */
const HINT_CHANNELS = [16, 32, 96, 256];
const ENCODER = /^(conv_in|time_embedding|down_blocks|mid_block)\./;

/**
 * A ControlNet with the UNet's encoder weights (the real parameter shapes: a ControlNet is a copy of the encoder)
 * plus random hint-block and zero-conv weights of the real SD1.5 shapes, all generated on read (nothing held).
 */
export function controlNetWeights(unet: WeightSet, cfg: UNetConfig): WeightSet {
  const shapes: ShapeMap = new Map();
  const conv = (name: string, out: number, inp: number, k: number): void => {
    shapes.set(`${name}.weight`, [out, inp, k, k]).set(`${name}.bias`, [out]);
  };
  conv('controlnet_cond_embedding.conv_in', HINT_CHANNELS[0], 3, 3);
  for (let i = 0; i < HINT_CHANNELS.length - 1; i++) {
    const [a, b] = [HINT_CHANNELS[i], HINT_CHANNELS[i + 1]];
    conv(`controlnet_cond_embedding.blocks.${2 * i}`, a, a, 3);
    conv(`controlnet_cond_embedding.blocks.${2 * i + 1}`, b, a, 3);
  }
  conv('controlnet_cond_embedding.conv_out', cfg.block_out_channels[0], HINT_CHANNELS[HINT_CHANNELS.length - 1], 3);
  controlResidualShapes(cfg, 1, 8, 8).down.forEach((s, i) => conv(`controlnet_down_blocks.${i}`, s[1], s[1], 1));
  const cm = cfg.block_out_channels[cfg.block_out_channels.length - 1];
  conv('controlnet_mid_block', cm, cm, 1);
  const extra = streamingRandomWeights(shapes, 'controlnet');
  const encoder = unet.names().filter((n) => ENCODER.test(n));
  const mine = new Set([...encoder, ...extra.names()]);
  return {
    names: () => [...mine],
    has: (n) => mine.has(n),
    get: (n) => (extra.has(n) ? extra.get(n) : mine.has(n) ? unet.get(n) : undefined),
  };
}

export interface CompiledVariant {
  path: string;
  graphBytes: number;
  /** Graph construction in JS + the graph file written (weights files are shared and written once). */
  compileMs: number;
  inputs: ProbeModel['inputs'];
}

export interface ControlVariants {
  dir: string;
  controlnet: CompiledVariant;
  unetCtl: CompiledVariant;
  /** The UNet + motion weights file (shared by both designs). */
  unetWeightsBytes: number;
  controlnetWeightsBytes: number;
  controlnetWeightsMs: number;
  /** Builds, writes and describes the fused graph for `units` ControlNets (one new graph per unit count). */
  fused(units: number): CompiledVariant;
}

function inputsOf(g: GraphIR): ProbeModel['inputs'] {
  return g.inputs.map((i) => ({ name: i.name, dims: i.shape.map((d) => (typeof d === 'number' ? d : 1)) }));
}

/** Compiles both designs for UNet shape `s` next to `models`' UNet + motion entry (compiling it first). */
export async function compileControlVariants(models: BenchModels, s: UNetShape): Promise<ControlVariants> {
  await models.compileUNet(s);
  const dir = dirname(models.unetModelPath(s));
  const unetIndex = readIndex(dir);
  const { precision: floatType, provider } = models.target;
  const attention = attentionPlanFor(provider);
  const src = models.source;
  const cnW = controlNetWeights(src.unet, src.configs.unet);
  const rows = s.batch * s.frames;
  // The UNet weights file was written under the models' conv plan (Winograd kernels on the CPU): both designs' graphs
  // must read the same encodings.
  const conv = models.convPlan();
  const buildCn = (): GraphIR => buildControlNetGraph(cnW, src.configs.unet, { batch: rows, latentHeight: s.latentHeight, latentWidth: s.latentWidth, contextLength: s.tokens, floatType, attention, conv, name: 'controlnet' });
  const buildUNet = (): GraphIR =>
    buildUNetGraph(src.unet, src.configs.unet, {
      batch: s.batch,
      latentHeight: s.latentHeight,
      latentWidth: s.latentWidth,
      contextLength: s.tokens,
      floatType,
      attention,
      motion: { w: src.motion, cfg: src.configs.motion, frames: s.frames, groupnorm: 'per_frame' },
      controlResiduals: true,
      conv,
      name: 'unet_ctl',
    });
  const emit = (build: () => GraphIR, index: WeightIndex, file: string): CompiledVariant => {
    const t = performance.now();
    const g = build();
    const path = emitGraphFile(g, index, { dir, modelFile: file });
    return { path, graphBytes: statSync(path).size, compileMs: performance.now() - t, inputs: inputsOf(g) };
  };

  const tw = performance.now();
  const cnIndex = writeWeightsFile(collectWeights([buildCn()]), { dir, file: 'controlnet.bin', floatType });
  const controlnetWeightsMs = performance.now() - tw;
  const controlnet = emit(buildCn, cnIndex, 'controlnet.onnx');
  const unetCtl = emit(buildUNet, unetIndex, 'unet_ctl.onnx');
  return {
    dir,
    controlnet,
    unetCtl,
    unetWeightsBytes: statSync(join(dir, WEIGHTS_FILE)).size,
    controlnetWeightsBytes: statSync(join(dir, 'controlnet.bin')).size,
    controlnetWeightsMs,
    fused: (units) => {
      // Every unit reads the same ControlNet bytes here (cost does not depend on which net it is).
      const index: WeightIndex = new Map(unetIndex);
      for (let k = 0; k < units; k++) for (const [key, loc] of cnIndex) index.set(fusedWeightKey(k, key), loc);
      return emit(() => fuseControlNets(buildUNet(), Array.from({ length: units }, buildCn), `unet_controlnet_x${units}`), index, `unet_controlnet_x${units}.onnx`);
    },
  };
}

function randomFeeds(inputs: ProbeModel['inputs']): Record<string, HostTensor> {
  return Object.fromEntries(inputs.map((inp, i) => [inp.name, f32Tensor(noiseArray(inp.dims.reduce((a, b) => a * b, 1), 3 + i), inp.dims)]));
}

/**
 * The shipped design in this process on `provider` (the gpu suite: a device's memory is not visible to a child's
 * RSS anyway): a warm-up round, then `runs` rounds of the ControlNet call and the UNet call it feeds, back to back.
 */
export async function timeControlPairs(v: ControlVariants, provider: ProviderName, runs: number): Promise<{ controlnetMs: number[]; unetMs: number[] }> {
  const cn = await createSession(v.controlnet.path, { providers: [provider] });
  try {
    const unet = await createSession(v.unetCtl.path, { providers: [provider] });
    try {
      const [cnFeeds, unetFeeds] = [randomFeeds(v.controlnet.inputs), randomFeeds(v.unetCtl.inputs)];
      const out = { controlnetMs: [] as number[], unetMs: [] as number[] };
      for (let i = 0; i <= runs; i++) {
        let t = performance.now();
        await cn.run(cnFeeds);
        const c = performance.now() - t;
        t = performance.now();
        await unet.run(unetFeeds);
        const u = performance.now() - t;
        if (i > 0) {
          out.controlnetMs.push(c);
          out.unetMs.push(u);
        }
      }
      return out;
    } finally {
      await unet.dispose();
    }
  } finally {
    await cn.dispose();
  }
}
