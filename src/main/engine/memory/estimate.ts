import type { GraphShape } from '../models/graph-identity';
import type { ModelSource } from '../models/model-source';
import { CPU_SAMPLE_CHUNKS } from '../../compiler/graph/sample-chunks';
import { weightBytes, type WeightTarget } from './weight-bytes';
import { vaeWinogradWidestInput } from '../../compiler/families/vae';
import type { VaeConfig } from '../../compiler/families/configs';

/**
 * Peak memory of a generation, from the shapes alone, before anything is compiled or opened. One estimate serves
 * the job guard (refuse a job that cannot fit, before it starts) and the session pool (how many bytes each open
 * session holds), so both agree on what a session costs.
 *
 * Model (measured, README.md): a generation process holds a fixed runtime base, each open session's weights
 * (onnxruntime keeps its own copy in anonymous memory), each session's activation arena — which onnxruntime
 * grows to the largest run it has seen and keeps until the session closes — and the decoded frames:
 *
 *   peak ≈ base + Σ weights + α_unet·N·h·w·C₀·e + α_vae·H·W·C_vae·e + 15·F·H·W
 *
 * When the UNet runs under the CPU sample-chunk plan (the guard's choice when the plain graph would not fit), its term
 * becomes α_held·N·h·w·C₀·e + W·min(rows, N·h·w)·C₀·e (below).
 *
 * N = samples per UNet call (frames × 2 with guidance > 1 in one batched call), h·w the latent size, C₀ the UNet's first block width,
 * H·W the pixels of one decoded frame (decoded one at a time), C_vae the VAE decoder's widest full-resolution
 * block, e the bytes per activation element (4 fp32, 2 fp16), 15 bytes per frame pixel for float32 RGB + 8-bit
 * RGB. The α are calibrated on peak RSS of whole generations; the test (test/node/pipeline/memory-estimate.test.ts)
 * checks the estimate against fresh worker processes at several sizes.
 */

/** Node, onnxruntime and three sessions' fixed costs, without their weights or arenas (measured: 208 MiB). */
export const RUNTIME_BASE_BYTES = 208 * 2 ** 20;
/**
 * UNet arena per sample, latent pixel and first-block channel, in activation elements. 81 with plain resnet +
 * motion blocks at full latent resolution (the starter model, fitted on 10 generations); 118 when full resolution
 * also has transformer blocks (SD1.5: attention + GEGLU feed-forward; full-size UNet + motion module, 8 × 32×32
 * samples, 6.18 GiB peak with 5.3 GB of weights — README "Performance").
 */
export const UNET_ARENA_PLAIN = 81;
export const UNET_ARENA_WITH_ATTENTION = 118;
/**
 * The same under the CPU sample-chunk plan (compiler/graph/sample-chunks.ts), where the resnets, spatial
 * transformers and motion sequences run a few samples at a time: what stays is what crosses layers — the residual
 * stream and the skip features, α per sample, latent pixel and first-block channel — plus one iteration's working
 * set, W per row of the plan (maxRows) and first-block channel, whatever the clip's size.
 * Starter model (fresh workers, 256²×16 and 512²×16 with CFG): α 11.7, W 110. Full size (SD1.5 + AnimateLCM motion,
 * fp32; `npm run bench -- memory-plan --full`, 2026-12-05): 9.05 GB at 1 × 16 × 64², 11.40 GB at 2 × 16 × 64², so
 * α 28 from the difference and W 239 from the rest over 5.3 GB of weights and the process's 0.15 GB.
 */
export const UNET_CHUNKED_HELD_PLAIN = 11.7;
export const UNET_CHUNKED_ITERATION_PLAIN = 110;
export const UNET_CHUNKED_HELD_WITH_ATTENTION = 28;
export const UNET_CHUNKED_ITERATION_WITH_ATTENTION = 239;
/**
 * The int8 plan's UNet arena relative to fp32's (compiler/graph/quant-plan.ts): every conv keeps its uint8 input
 * copy, channels-last copy and im2col matrix (k²/4 of the fp32 input's bytes), and the float product's two
 * layout copies. Fitted on the starter model (fresh worker, 512² × 8 frames, CFG: 1227 MiB against fp32's 998 MiB
 * with smaller weights); not yet measured at full size.
 */
export const UNET_INT8_ARENA_FACTOR = 1.35;
/** VAE decoder arena per output pixel and full-resolution channel, in activation elements (fitted: 8.5). */
export const VAE_ARENA = 8.5;
/**
 * What the CPU's winograd conv plan adds to a VAE arena (compiler/graph/conv-plan.ts, families/vae.ts
 * vaeTakesWinograd): the transform intermediates of its widest layer (2.25× that layer's input, a few at once), per
 * element of that input (vaeWinogradWidestInput). Fitted from the added peak RSS over direct, weights aside, the
 * larger of: starter 1024² × 1 frame (fresh workers) ≈ 150 MiB = 4.7 inputs; SD1.5 decoder one frame (fresh
 * processes, `npm run bench -- vae-conv`) 256²: 0.03 GiB, 512²: 0.04 GiB = 0.7 (its intermediates fit in the
 * arena the top level needs anyway).
 */
export const VAE_WINOGRAD_TRANSIENT = 5;
/** Host bytes per frame pixel after decoding: float32 RGB (12) + 8-bit RGB (3). */
export const FRAME_BYTES_PER_PIXEL = 15;
/** A GPU provider's own context and workspace (CUDA / DirectML; not measured on this project's machines). */
export const GPU_CONTEXT_BYTES = 512 * 2 ** 20;

/** Where sessions run and in what precision. */
export interface MemoryTarget extends WeightTarget {
  /** True when the first provider is a GPU: weights and arenas then live in device memory. */
  gpu: boolean;
}

export interface MemorySplit {
  /** Process memory (RSS). */
  host: number;
  /** GPU memory (0 on the CPU). */
  device: number;
}

/** What one generation asks for. */
export interface GenerationSize {
  width: number;
  height: number;
  frames: number;
  guidance: number;
  /**
   * With guidance > 1: the unconditional and conditional halves in one batch-2 UNet call ('batched', the default),
   * or as two batch-1 calls ('separate': half the UNet's activation memory, measured in bench/README.md).
   */
  guidanceCalls?: GuidanceCalls;
  /**
   * The UNet under the CPU sample-chunk plan (compiler/graph/sample-chunks.ts): less memory, a little slower. The job
   * guard turns it on only when the plain graph would not fit; never on a GPU.
   */
  sampleChunks?: boolean;
}

export type GuidanceCalls = 'batched' | 'separate';

/** Videos per UNet call: 2 when guidance > 1 runs both halves in one call, else 1. */
export function unetBatch(size: Pick<GenerationSize, 'guidance' | 'guidanceCalls'>): number {
  return size.guidance > 1 && size.guidanceCalls !== 'separate' ? 2 : 1;
}

export interface GenerationEstimate extends MemorySplit {
  /** Where the bytes go, for messages and tests (all on the side the target puts them). */
  parts: { base: number; weights: number; unetArena: number; vaeArena: number; frames: number };
}

const elementBytes = (t: MemoryTarget): number => (t.precision === 'float16' ? 2 : 4);

/** Activation arena of one session for its shape, in bytes. */
export function arenaBytes(source: ModelSource, shape: GraphShape, target: MemoryTarget): number {
  const c = source.configs;
  const e = elementBytes(target);
  switch (shape.component) {
    case 'unet': {
      const attentionAtFullRes = c.unet.down_block_types[0]?.includes('CrossAttn') ?? false;
      const perElement = shape.batch * shape.frames * shape.latentHeight * shape.latentWidth * c.unet.block_out_channels[0] * e;
      const int8 = target.quant === 'int8' ? UNET_INT8_ARENA_FACTOR : 1;
      if (shape.chunkRows) {
        const held = attentionAtFullRes ? UNET_CHUNKED_HELD_WITH_ATTENTION : UNET_CHUNKED_HELD_PLAIN;
        const iteration = attentionAtFullRes ? UNET_CHUNKED_ITERATION_WITH_ATTENTION : UNET_CHUNKED_ITERATION_PLAIN;
        const rows = Math.min(shape.chunkRows, shape.batch * shape.frames * shape.latentHeight * shape.latentWidth);
        return int8 * (held * perElement + iteration * rows * c.unet.block_out_channels[0] * e);
      }
      return int8 * (attentionAtFullRes ? UNET_ARENA_WITH_ATTENTION : UNET_ARENA_PLAIN) * perElement;
    }
    case 'vae': {
      const factor = 2 ** (c.vae.block_out_channels.length - 1);
      return vaeArenaPerPixel(c.vae, 'decoder', target) * shape.latentHeight * factor * shape.latentWidth * factor * e;
    }
    case 'vae_encoder':
      // The encoder's activations mirror the decoder's at the same pixel size (once per input frame).
      return vaeArenaPerPixel(c.vae, 'encoder', target) * shape.height * shape.width * e;
    case 'text_encoder':
      return 0; // 77·k tokens: within the runtime base
    case 'img_encoder':
      return 0; // a few small convolutions, once per clip: within the runtime base
  }
}

/** A VAE arena's elements per full-resolution pixel: α_vae·C_vae, plus the winograd plan's transients on the CPU. */
export function vaeArenaPerPixel(cfg: VaeConfig, part: 'decoder' | 'encoder', target: MemoryTarget): number {
  const winograd = target.conv === 'winograd' ? VAE_WINOGRAD_TRANSIENT * vaeWinogradWidestInput(cfg, part) : 0;
  return VAE_ARENA * cfg.block_out_channels[0] + winograd;
}

/** Bytes one open session holds (its weights and its arena), on the host or the device. */
export function sessionMemory(source: ModelSource, shape: GraphShape, target: MemoryTarget): MemorySplit {
  const bytes = weightBytes(source, shape.component, target) + arenaBytes(source, shape, target);
  return target.gpu ? { host: 0, device: bytes } : { host: bytes, device: 0 };
}

/** The graphs a generation of `size` opens (text encoder for 77 tokens, UNet, VAE decoder). */
export function generationShapes(source: ModelSource, size: GenerationSize): GraphShape[] {
  const f = 2 ** (source.configs.vae.block_out_channels.length - 1);
  const h = Math.ceil(size.height / f);
  const w = Math.ceil(size.width / f);
  return [
    { component: 'text_encoder', tokens: 77 },
    { component: 'unet', batch: unetBatch(size), frames: size.frames, latentHeight: h, latentWidth: w, tokens: 77, ...(size.sampleChunks ? { chunkRows: CPU_SAMPLE_CHUNKS.maxRows } : {}) },
    { component: 'vae', latentHeight: h, latentWidth: w },
  ];
}

/** Peak memory of one generation of `size` in a fresh process. */
export function estimateGeneration(source: ModelSource, size: GenerationSize, target: MemoryTarget): GenerationEstimate {
  const shapes = generationShapes(source, size);
  let weights = 0;
  let unetArena = 0;
  let vaeArena = 0;
  for (const s of shapes) {
    weights += weightBytes(source, s.component, target);
    if (s.component === 'unet') unetArena = arenaBytes(source, s, target);
    if (s.component === 'vae') vaeArena = arenaBytes(source, s, target);
  }
  const frames = FRAME_BYTES_PER_PIXEL * size.frames * size.width * size.height;
  const parts = { base: RUNTIME_BASE_BYTES, weights, unetArena, vaeArena, frames };
  if (!target.gpu) return { host: RUNTIME_BASE_BYTES + weights + unetArena + vaeArena + frames, device: 0, parts };
  // On a GPU, weights pass through the host while a session loads (the largest component at a time).
  const staging = Math.max(...shapes.map((s) => weightBytes(source, s.component, target)));
  return { host: RUNTIME_BASE_BYTES + staging + frames, device: GPU_CONTEXT_BYTES + weights + unetArena + vaeArena, parts };
}

/**
 * What the session pool of a long-lived model set may hold: the usable memory less the runtime base (host), or the
 * GPU's usable memory less the provider's context (no limit when the GPU's size is unknown).
 */
export function sessionBudgetBytes(machine: { hostUsable: number; deviceUsable?: number }, gpu: boolean): number {
  if (gpu) return machine.deviceUsable === undefined ? Infinity : Math.max(0, machine.deviceUsable - GPU_CONTEXT_BYTES);
  return Math.max(0, machine.hostUsable - RUNTIME_BASE_BYTES);
}
