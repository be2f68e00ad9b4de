import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMotionConfig, parseUNetConfig, type MotionConfig, type MotionGroupNorm, type UNetConfig } from '../../../src/main/compiler/families/configs';
import { compareArrays, formatComparison } from '../../../src/main/verify/compare';
import { runUNet } from '../../../src/main/verify/kinds/unet2d';
import { windowFusionPlan, type ContextWindowSpec } from '../../../src/main/compiler/families/context-windows';
import { tensor } from './naive';
import { motionShapes, naiveUNet, randomWeights, rng, unetShapes } from './naive-unet';

/**
 * Configurations the reference fixtures do not cover, checked against the plain float64 forward in
 * naive-unet.ts: other channel lists, three blocks, layers_per_block 2, per-block head counts, linear
 * projections, transformer depth 2, non-square latents not divisible by the downsampling factor, batch 1 and 2,
 * 154-token context, 3 and 6 frames, both motion GroupNorm modes, with and without a mid-block motion module.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function randn(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const r = rng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = r();
  return { shape, data };
}

interface Case {
  cfg: UNetConfig;
  batch: number;
  h: number;
  w: number;
  ctxLen: number;
  timesteps: number[];
  motion?: { cfg: MotionConfig; frames: number; groupnorm: MotionGroupNorm; windows?: { spec: ContextWindowSpec; starts: number[]; weights: number[]; windowsPerGroup?: number } };
}

async function check(name: string, c: Case, seed: number): Promise<void> {
  const { weights, lookup } = randomWeights(unetShapes(c.cfg), seed);
  const frames = c.motion?.frames ?? 1;
  const n = c.batch * frames;
  const sample = randn([n, c.cfg.in_channels, c.h, c.w], seed + 1);
  const text = randn([n, c.ctxLen, c.cfg.cross_attention_dim], seed + 2);
  const mw = c.motion ? randomWeights(motionShapes(c.motion.cfg), seed + 3) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'unet-naive-'));
  dirs.push(dir);
  const outs = await runUNet(weights, c.cfg, { sample, context: text, timesteps: c.timesteps }, {
    workDir: dir,
    modelFile: 'm.onnx',
    motion: c.motion && mw ? { w: mw.weights, cfg: c.motion.cfg, frames, groupnorm: c.motion.groupnorm, windows: c.motion.windows && windowFusionPlan(frames, c.motion.windows.spec, c.motion.windows.windowsPerGroup) } : undefined,
  });
  c.timesteps.forEach((t, i) => {
    const win = c.motion?.windows;
    const naiveMotion = c.motion && mw ? { W: mw.lookup, cfg: c.motion.cfg, frames, groupnorm: c.motion.groupnorm, windows: win && { length: win.spec.length, starts: win.starts, weights: win.weights } } : undefined;
    const ref = naiveUNet(lookup, c.cfg, tensor(sample.shape, sample.data), t, tensor(text.shape, text.data), naiveMotion);
    expect(ref.shape).toEqual([n, c.cfg.out_channels, c.h, c.w]);
    const cmp = compareArrays(name, `noise_pred_t${t}`, outs[i], ref.data);
    if (process.env.UNET_TEST_VERBOSE) console.log(formatComparison(cmp));
    expect(cmp.pass, formatComparison(cmp)).toBe(true);
    // The check is not vacuous: outputs are of order 1 and vary.
    expect(Math.max(...Array.from(ref.data, Math.abs))).toBeGreaterThan(0.1);
  });
}

describe('UNet graph vs a naive float64 forward (configs outside the fixtures)', () => {
  it('3 blocks, layers_per_block 2, per-block heads, linear projection, depth-2 transformers, 8×6 latent, batch 1, 154 tokens, flip/shift variant', async () => {
    const cfg = parseUNetConfig({
      block_out_channels: [8, 16, 24],
      layers_per_block: 2,
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
      attention_head_dim: [2, 4, 2],
      norm_num_groups: 4,
      cross_attention_dim: 12,
      use_linear_projection: true,
      transformer_layers_per_block: 2,
      flip_sin_to_cos: false,
      freq_shift: 1,
    });
    await check('unet2d-3blocks', { cfg, batch: 1, h: 8, w: 6, ctxLen: 154, timesteps: [999, 37] }, 11);
  });

  it('2 blocks (DownBlock2D first), conv projection, 4 heads, 4×5 latent, batch 2', async () => {
    const cfg = parseUNetConfig({
      block_out_channels: [16, 32],
      layers_per_block: 1,
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
      attention_head_dim: 4,
      norm_num_groups: 8,
      norm_eps: 1e-6,
      cross_attention_dim: 20,
    });
    await check('unet2d-2blocks', { cfg, batch: 2, h: 4, w: 5, ctxLen: 77, timesteps: [500] }, 21);
  });

  const motionBase = parseUNetConfig({
    block_out_channels: [8, 16],
    layers_per_block: 1,
    down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'],
    attention_head_dim: 2,
    norm_num_groups: 4,
    cross_attention_dim: 12,
  });
  const motionCfg = parseMotionConfig({
    block_out_channels: [8, 16],
    motion_layers_per_block: 1,
    motion_num_attention_heads: 2,
    motion_norm_num_groups: 4,
    motion_max_seq_length: 8,
    use_motion_mid_block: true,
  });
  for (const groupnorm of ['per_frame', 'across_frames'] as const) {
    it(`motion UNet, ${groupnorm}: 3 frames, batch 2, 4×6 latent, mid-block motion module`, async () => {
      await check(`motion-${groupnorm}`, { cfg: motionBase, batch: 2, h: 4, w: 6, ctxLen: 77, timesteps: [999], motion: { cfg: motionCfg, frames: 3, groupnorm } }, 31);
    });
  }

  it('motion UNet, 3 blocks, layers_per_block 2, 6 frames, batch 1, no mid motion module, linear projection, 154 tokens, odd 6×5 latent', async () => {
    const cfg = parseUNetConfig({
      block_out_channels: [8, 16, 16],
      layers_per_block: 2,
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
      up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
      attention_head_dim: 2,
      norm_num_groups: 4,
      cross_attention_dim: 12,
      use_linear_projection: true,
    });
    const mcfg = parseMotionConfig({
      block_out_channels: [8, 16, 16],
      motion_layers_per_block: 2,
      motion_num_attention_heads: 4,
      motion_norm_num_groups: 2,
      motion_max_seq_length: 24,
      use_motion_mid_block: false,
    });
    await check('motion-3blocks', { cfg, batch: 1, h: 6, w: 5, ctxLen: 154, timesteps: [259], motion: { cfg: mcfg, frames: 6, groupnorm: 'per_frame' } }, 41);
  });

  // FreeNoise studio mode, configurations the fixtures (diffusers mode) do not contain. Windows and weights are
  // written out by hand here; the naive forward takes each window in turn and divides by the summed weights.
  it('motion UNet with context windows (studio): 11 frames, length 4, stride 3, pyramid, the tail window blended over all its frames, batch 2, per_frame', async () => {
    const spec: ContextWindowSpec = { length: 4, stride: 3, weighting: 'pyramid', mode: 'studio' };
    const windows = { spec, starts: [0, 3, 6, 7], weights: [1, 2, 2, 1] };
    await check('freenoise-studio-pyramid-tail', { cfg: motionBase, batch: 2, h: 4, w: 6, ctxLen: 77, timesteps: [999], motion: { cfg: motionCfg, frames: 11, groupnorm: 'per_frame', windows } }, 41);
  });

  it('motion UNet with context windows (studio): 12 frames (above the trained 8), odd length 5 with delayed_reverse_sawtooth, stride 2, across_frames, two windows per group', async () => {
    const spec: ContextWindowSpec = { length: 5, stride: 2, weighting: 'delayed_reverse_sawtooth', mode: 'studio' };
    // 5 windows in groups of 2, 2, 1: partial sums carried twice (the graph default would batch all 5 at once)
    const windows = { spec, starts: [0, 2, 4, 6, 7], weights: [0.01, 0.01, 3, 2, 1], windowsPerGroup: 2 };
    await check('freenoise-studio-sawtooth-odd', { cfg: motionBase, batch: 1, h: 4, w: 6, ctxLen: 77, timesteps: [500], motion: { cfg: motionCfg, frames: 12, groupnorm: 'across_frames', windows } }, 43);
  });
});
