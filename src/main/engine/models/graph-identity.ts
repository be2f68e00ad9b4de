import { attentionLabel, type AttentionPlan } from '../../compiler/graph/attention-plan';
import type { QuantPlan } from '../../compiler/graph/quant-plan';
import type { NormPlan } from '../../compiler/graph/norm-plan';
import type { ConvPlan } from '../../compiler/graph/conv-plan';
import type { TrigPlan } from '../../compiler/graph/trig-plan';
import type { MotionGroupNormMode } from '../../../shared/domain/generation';
import type { CacheKey } from '../../compiler/cache';
import type { ContextWindowSpec } from '../../compiler/families/context-windows';
import type { ModelSource } from './model-source';

/**
 * What a compiled graph IS, as data: the component, the shape its dims are fixed to, and which weights it runs on
 * (the base weights, or a merged LoRA overlay). Everything that needs to know something about a graph — the
 * session pool, LoRA switching, the memory estimate, progress events — reads these fields; the file name in the
 * cache (`graphName`) is derived from them for the cache and for people, and nothing parses it back.
 */

export type Component = 'text_encoder' | 'unet' | 'vae' | 'vae_encoder' | 'img_encoder';

/** The components a LoRA stack can touch. */
export type LoraComponent = 'text_encoder' | 'unet';

/** The static dims of one graph (onnxruntime plans memory per shape, so each shape is its own graph). */
export type GraphShape =
  | {
      component: 'text_encoder';
      /** 77·k token ids. */
      tokens: number;
      /** CLIP skip beyond the penultimate layer (3, 4); absent for 1 and 2, which one graph serves as two outputs. */
      deepSkip?: number;
      /** Takes textual-inversion vectors as extra token-table rows per run (input `extra_token_embeddings`). */
      extraTokens?: boolean;
    }
  | {
      component: 'unet';
      /** 1, or 2 when classifier-free guidance batches uncond + cond. */
      batch: number;
      frames: number;
      latentHeight: number;
      latentWidth: number;
      /** Context length, 77·k. */
      tokens: number;
      /** With ControlNet residual inputs (compiler/families/unet.ts `controlResiduals`); same weights, another graph. */
      control?: true;
      /** FreeNoise context windows (compiled into the motion modules); absent = every frame at once. */
      windows?: ContextWindowSpec;
      /** AnimateLCM-I2V: the graph takes the image encoder's features (`img_feature_<i>` inputs). */
      imageFeatures?: true;
      /**
       * The CPU memory plan (compiler/graph/sample-chunks.ts): spatial layers and motion sequences as Scans of at most
       * this many rows per iteration. Chosen per generation by the job guard when the plain graph would not fit; same
       * weights, another graph file in the same entry.
       */
      chunkRows?: number;
    }
  | { component: 'vae'; latentHeight: number; latentWidth: number }
  /** Image/video modes: pixels [1, 3, height, width] → moments (one frame or image per call). */
  | { component: 'vae_encoder'; height: number; width: number }
  /** AnimateLCM-I2V's image encoder for `batch` images of a `frames`-frame clip. */
  | { component: 'img_encoder'; batch: number; frames: number; latentHeight: number; latentWidth: number };

export interface GraphId {
  shape: GraphShape;
  /**
   * RuntimeStackPlan.mergedKey of the merged LoRA part this graph runs on (UNet and text encoder only); absent
   * for the base weights. The merged part's identity, not the whole stack's: slotted LoRAs are feeds.
   */
  mergedKey?: string;
}

/** The text encoder's shape for `clipSkip` (1 and 2 share a graph: it outputs both the last and penultimate states). */
export function textEncoderShape(tokens: number, clipSkip: number): GraphShape {
  return clipSkip > 2 ? { component: 'text_encoder', tokens, deepSkip: clipSkip } : { component: 'text_encoder', tokens };
}

/** The graph's file name (without `.onnx`) in its component's cache entry, e.g. `unet_b2_f16_64x64_t77`. */
export function graphName(id: GraphId): string {
  return baseGraphName(id.shape) + (id.mergedKey ? `_lora-${id.mergedKey}` : '');
}

function baseGraphName(s: GraphShape): string {
  switch (s.component) {
    case 'text_encoder':
      return (s.deepSkip ? `clip_text_s${s.tokens}_skip${s.deepSkip}` : `clip_text_s${s.tokens}`) + (s.extraTokens ? '_ti' : '');
    case 'unet':
      return `unet_b${s.batch}_f${s.frames}_${s.latentHeight}x${s.latentWidth}_t${s.tokens}${s.imageFeatures ? '_img' : ''}${s.control ? '_ctl' : ''}` + (s.windows ? windowsSuffix(s.windows) : '') + (s.chunkRows ? `_rows${s.chunkRows}` : '');
    case 'vae':
      return `vae_decoder_${s.latentHeight}x${s.latentWidth}`;
    case 'vae_encoder':
      return `vae_encoder_${s.height}x${s.width}`;
    case 'img_encoder':
      return `img_encoder_b${s.batch}_f${s.frames}_${s.latentHeight}x${s.latentWidth}`;
  }
}

const WEIGHTING_CODE = { flat: 'f', pyramid: 'p', delayed_reverse_sawtooth: 's' } as const;

/** `_ctx16s4p` (studio) or `_ctx16s4p-diffusers`: window length, stride, weighting and mode. */
function windowsSuffix(w: ContextWindowSpec): string {
  return `_ctx${w.length}s${w.stride}${WEIGHTING_CODE[w.weighting]}${w.mode === 'diffusers' ? '-diffusers' : ''}`;
}

/** How a model set compiles: the options that change every graph of a component. */
export interface CompileSettings {
  precision: 'float32' | 'float16';
  groupnorm: MotionGroupNormMode;
  /** Rank of the run-time LoRA slots; 0 = graphs without slots. */
  loraRank: number;
  /** How attentions are emitted for the provider the graphs run on (attention-plan.ts); default fused. */
  attention?: AttentionPlan;
  /** How the timestep embedding's sin/cos are emitted for that provider (trig-plan.ts); default native. */
  trig?: TrigPlan;
  /** How GroupNorm's statistics are emitted for that provider (norm-plan.ts); default instance. */
  norm?: NormPlan;
  /** The UNet's Linear and conv layers: float, or the labelled int8 CPU option (quant-plan.ts); default float. */
  quant?: QuantPlan;
  /** The UNet's and the VAE's 3×3 convolutions: direct, or the CPU's Winograd form (conv-plan.ts); default direct. */
  conv?: ConvPlan;
}

/**
 * The compile-cache entry of one component: config, weight identity, precision, GroupNorm mode, slot rank — NOT
 * the shape (each shape is one small graph file in the entry, over one shared weights file) and NOT the LoRA
 * stack (slot feeds at run time; the merged part is an overlay inside this same entry, lora-overlay-entry.ts).
 */
export function componentCacheKey(source: ModelSource, component: Component, settings: CompileSettings): CacheKey {
  const c = source.configs;
  const family = { text_encoder: 'clip_text', unet: 'unet_motion', vae: 'vae_decoder', vae_encoder: 'vae_encoder', img_encoder: 'animatelcm_i2v_img_encoder' }[component];
  const config = component === 'unet' ? { unet: c.unet, motion: c.motion } : component === 'vae' || component === 'vae_encoder' ? c.vae : component === 'img_encoder' ? { levels: c.unet.block_out_channels.length } : c.text_encoder;
  const slotted = isLoraComponent(component) && settings.loraRank > 0;
  // motionSlots: UNet graphs also carry slots on the motion modules' attentions (MotionLoRAs); graphs cached
  // before that lack those inputs, so they live under another key.
  const slotOption = slotted ? (component === 'unet' ? { loraRank: settings.loraRank, motionSlots: 1 } : { loraRank: settings.loraRank }) : {};
  const identity = component === 'vae_encoder' ? source.identity.vae : component === 'img_encoder' ? source.identity.img_encoder : source.identity[component];
  return {
    family,
    config,
    weights: [JSON.stringify(identity)],
    precision: settings.precision,
    // Fused attention (every provider but WebGPU) keeps the keys cache entries had before plans existed.
    // Native sin/cos likewise; only the UNet has a timestep embedding. The instance GroupNorm likewise; only the
    // UNet's graphs take the norm plan (the VAE's keep theirs: they pass on WebGPU, norm-plan.ts).
    options: withConv(withQuant(withNorm(withTrig(withAttention(component === 'unet' ? { groupnorm: settings.groupnorm, ...slotOption } : slotted ? slotOption : undefined, component, settings.attention), component, settings.trig), component, settings.norm), component, settings.quant), component, settings.conv),
  };
}

function withAttention(options: Record<string, unknown> | undefined, component: Component, plan: AttentionPlan | undefined): Record<string, unknown> | undefined {
  if (!plan || plan.kind === 'fused' || component === 'text_encoder') return options;
  return { ...options, attention: attentionLabel(plan) };
}

function withTrig(options: Record<string, unknown> | undefined, component: Component, trig: TrigPlan | undefined): Record<string, unknown> | undefined {
  if (!trig || trig === 'native' || component !== 'unet') return options;
  return { ...options, trig };
}

function withNorm(options: Record<string, unknown> | undefined, component: Component, norm: NormPlan | undefined): Record<string, unknown> | undefined {
  if (!norm || norm === 'instance' || component !== 'unet') return options;
  return { ...options, norm };
}

/** int8 Linear layers are another set of weights (int8 + scales): their own entry. Float keeps the keys as they were. */
function withQuant(options: Record<string, unknown> | undefined, component: Component, quant: QuantPlan | undefined): Record<string, unknown> | undefined {
  if (!quant || quant === 'float' || component !== 'unet') return options;
  return { ...options, quant };
}

/**
 * Winograd kernels are another set of weights ([36, K, C] where the kernel is [K, C, 3, 3]): their own entry. The
 * UNet's and the VAE's graphs take the plan (conv-plan.ts); the direct form keeps the keys entries had before it.
 */
function withConv(options: Record<string, unknown> | undefined, component: Component, conv: ConvPlan | undefined): Record<string, unknown> | undefined {
  if (!conv || conv === 'direct' || !(component === 'unet' || component === 'vae' || component === 'vae_encoder')) return options;
  return { ...options, conv };
}

export function isLoraComponent(c: Component): c is LoraComponent {
  return c === 'unet' || c === 'text_encoder';
}
