import type { SampleChunkPlan } from '../graph/sample-chunks';
import type { AttentionPlan } from '../graph/attention-plan';
import { StudioError } from '../../../shared/errors';
import type { WeightSet } from '../io/tensor';
import { attr, GraphBuilder, type GraphIR } from '../graph/builder';
import type { NormPlan } from '../graph/norm-plan';
import type { ConvPlan } from '../graph/conv-plan';
import type { TrigPlan } from '../graph/trig-plan';
import { conv2d, linear, need, silu } from '../graph/layers';
import type { UNetConfig } from './configs';
import { checkAllWeightsUsed, checkBlockType, downPass, midBlock, timestepProjection, type BlockCtx, type Val } from './unet';

/**
 * diffusers `ControlNetModel` (SD1.5 ControlNets: lllyasviel control_v11p_sd15_* and their kin) as an ONNX graph.
 * It is the UNet's encoder (own weights) plus a hint block on the control image and one zero conv per skip
 * feature and for the mid block. The UNet takes its outputs through `controlResiduals` inputs (unet.ts).
 *
 * Graph interface (N = cfg halves · frames, row order as the UNet's: frame-major within each half):
 *   sample                 [N, 4, h, w]
 *   timestep               float32 [1]
 *   encoder_hidden_states  [N, 77·k, cross_dim]
 *   controlnet_cond        [N, 3, 8h, 8w]  RGB in [0, 1] (not [-1, 1])
 *   conditioning_scale     float32 [1]     a run-time input so one compiled net serves every scale and window
 *   → down_residual_i      one per UNet skip feature, already × scale
 *   → mid_residual
 *
 * Scaling multiplies in float32 by float32(scale), which is torch's scalar rule; a keep of 0 is a scale of 0.
 */

export interface ControlNetBuildOptions {
  /** Rows per call (cfg halves · frames). */
  batch: number;
  latentHeight: number;
  latentWidth: number;
  contextLength?: number;
  floatType?: 'float32' | 'float16';
  /** The cross-attentions' form (default fused; attention-plan.ts picks it per provider). */
  attention?: AttentionPlan;
  /** The timestep embedding's sin/cos (default native; trig-plan.ts picks it per provider). */
  trig?: TrigPlan;
  /** GroupNorm's statistics (default instance; norm-plan.ts picks it per provider). */
  norm?: NormPlan;
  /** Resnets and cross-attentions as Scans over sample groups (graph/sample-chunks.ts, the CPU memory plan). */
  sampleChunks?: SampleChunkPlan;
  /** The 3×3 convolutions' form (graph/conv-plan.ts picks it per provider): absent ⇒ direct. */
  conv?: ConvPlan;
  name?: string;
}

/** The hint block's stride-2 convolutions: the control image is this many times the latent. */
export function hintDownscale(w: WeightSet): number {
  return 2 ** hintBlocks(w).filter((i) => i % 2 === 1).length;
}

/** `controlnet_cond_embedding.blocks.i` present, in order (pairs: conv a→a, then conv a→b stride 2). */
function hintBlocks(w: WeightSet): number[] {
  const idx = w.names().map((n) => /^controlnet_cond_embedding\.blocks\.(\d+)\.weight$/.exec(n)).filter((m) => m !== null).map((m) => Number(m[1]));
  return idx.sort((a, b) => a - b);
}

export function buildControlNetGraph(w: WeightSet, cfg: UNetConfig, opts: ControlNetBuildOptions): GraphIR {
  const floatType = opts.floatType ?? 'float32';
  const n = opts.batch;
  const ctxLen = opts.contextLength ?? 77;
  const nBlocks = cfg.block_out_channels.length;
  if (!(n >= 1 && opts.latentHeight >= 1 && opts.latentWidth >= 1 && ctxLen >= 1)) {
    throw new StudioError('INVALID_PARAMS', `Invalid ControlNet shape: batch ${n}, latent ${opts.latentHeight}×${opts.latentWidth}, context ${ctxLen}.`);
  }
  if (cfg.down_block_types.length !== nBlocks) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `The ControlNet config has ${nBlocks} channel entries but ${cfg.down_block_types.length} down blocks.`);
  }
  cfg.down_block_types.forEach((t) => checkBlockType(t, ['CrossAttnDownBlock2D', 'DownBlock2D'], 'down block'));
  if (cfg.mid_block_type === null) throw new StudioError('MODEL_FAMILY_UNSUPPORTED', 'This ControlNet has no mid block; SD1.5 ControlNets always have one.');
  checkBlockType(cfg.mid_block_type, ['UNetMidBlock2DCrossAttn'], 'mid block');

  const g = new GraphBuilder(opts.name ?? 'controlnet', floatType, opts.attention, opts.trig, opts.norm, 'float', opts.conv);
  g.metadata['family'] = 'controlnet';
  g.metadata['shape'] = JSON.stringify({ batch: n, latentHeight: opts.latentHeight, latentWidth: opts.latentWidth, contextLength: ctxLen });
  const inCh = need(w, 'conv_in.weight').shape[1];
  const condCh = need(w, 'controlnet_cond_embedding.conv_in.weight').shape[1];
  const factor = hintDownscale(w);
  const sample = g.input('sample', floatType, [n, inCh, opts.latentHeight, opts.latentWidth]);
  const timestep = g.input('timestep', 'float32', [1]);
  const context = g.input('encoder_hidden_states', floatType, [n, ctxLen, cfg.cross_attention_dim]);
  const cond = g.input('controlnet_cond', floatType, [n, condCh, opts.latentHeight * factor, opts.latentWidth * factor]);
  const scale = g.input('conditioning_scale', 'float32', [1]);
  const scaleT = floatType === 'float16' ? g.op('Cast', [scale], { to: attr.int(10) }, { name: 'scale_fp16' }) : scale;

  const tproj = timestepProjection(g, w, cfg, timestep);
  const temb1 = linear(g, w, 'time_embedding.linear_1', tproj.v);
  const temb = linear(g, w, 'time_embedding.linear_2', g.scope('time_embedding', () => silu(g, temb1)));
  const tembAct = g.scope('time_embedding', () => silu(g, temb));
  const blocks: BlockCtx = {
    g, w, tembAct, context, contextDim: cfg.cross_attention_dim, contextRows: n * ctxLen, contextLength: ctxLen, eps: cfg.norm_eps, groups: cfg.norm_num_groups,
    useLinear: cfg.use_linear_projection, motion: undefined, tap: () => undefined, slots: undefined, chunks: opts.sampleChunks,
  };

  // Hint block: conv_in SiLU, (conv SiLU, conv stride 2 SiLU)…, conv_out. No normalisation.
  let hint = silu(g, conv2d(g, w, 'controlnet_cond_embedding.conv_in', cond));
  for (const i of hintBlocks(w)) hint = silu(g, conv2d(g, w, `controlnet_cond_embedding.blocks.${i}`, hint, { stride: i % 2 === 1 ? 2 : 1 }));
  const hintOut = conv2d(g, w, 'controlnet_cond_embedding.conv_out', hint);

  const c0 = need(w, 'conv_in.weight').shape[0];
  let h: Val = { v: g.op('Add', [conv2d(g, w, 'conv_in', sample), hintOut], {}, { name: 'add_hint' }), shape: [n, c0, opts.latentHeight, opts.latentWidth] };
  const down = downPass(blocks, cfg, h);
  const skips = down.skips;
  h = midBlock(blocks, cfg, down.h);

  const zero = (prefix: string, x: Val, out: string): void => {
    const y = conv2d(g, w, prefix, x.v, { pad: 0 });
    g.output(g.scope(prefix, () => g.op('Mul', [y, scaleT], {}, { name: 'scale' })), out, floatType, [n, need(w, `${prefix}.weight`).shape[0], x.shape[2], x.shape[3]]);
  };
  skips.forEach((s, i) => {
    if (!w.has(`controlnet_down_blocks.${i}.weight`)) {
      throw new StudioError('MODEL_KEYS_MISSING', `The ControlNet has no zero convolution ${i} ("controlnet_down_blocks.${i}.weight"); its encoder has ${skips.length} skip features.`);
    }
    zero(`controlnet_down_blocks.${i}`, s, `down_residual_${i}`);
  });
  zero('controlnet_mid_block', h, 'mid_residual');
  const graph = g.build();
  checkAllWeightsUsed(graph, w, 'ControlNet');
  return graph;
}

/** The residual shapes a ControlNet of this config gives for a latent h×w: the UNet's skip shapes, then the mid. */
export function controlResidualShapes(cfg: UNetConfig, rows: number, latentHeight: number, latentWidth: number): { down: number[][]; mid: number[] } {
  const down: number[][] = [];
  let [hh, ww] = [latentHeight, latentWidth];
  const c = cfg.block_out_channels;
  down.push([rows, c[0], hh, ww]);
  for (let i = 0; i < c.length; i++) {
    for (let j = 0; j < cfg.layers_per_block; j++) down.push([rows, c[i], hh, ww]);
    if (i < c.length - 1) {
      [hh, ww] = [Math.floor((hh + 2 * cfg.downsample_padding - 3) / 2) + 1, Math.floor((ww + 2 * cfg.downsample_padding - 3) / 2) + 1];
      down.push([rows, c[i], hh, ww]);
    }
  }
  return { down, mid: [rows, c[c.length - 1], hh, ww] };
}
