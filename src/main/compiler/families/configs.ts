/**
 * Model configurations, in diffusers' own field names so a diffusers `config.json` parses directly and a
 * config detected from tensor shapes (families/detect) is the same object. Graph builders take these.
 * Only the fields the SD1.5-style architectures use are kept; anything else is ignored on parse.
 */

export interface UNetConfig {
  in_channels: number;
  out_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  down_block_types: string[]; // 'CrossAttnDownBlock2D' | 'DownBlock2D'
  up_block_types: string[]; // 'UpBlock2D' | 'CrossAttnUpBlock2D'
  mid_block_type: string | null; // 'UNetMidBlock2DCrossAttn' | null
  cross_attention_dim: number;
  /** Legacy diffusers naming: the number of attention heads (per block when an array). */
  attention_head_dim: number | number[];
  norm_num_groups: number;
  norm_eps: number;
  use_linear_projection: boolean;
  transformer_layers_per_block: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  downsample_padding: number;
}

export interface MotionConfig {
  block_out_channels: number[];
  motion_layers_per_block: number;
  motion_mid_block_layers_per_block: number;
  motion_num_attention_heads: number;
  motion_norm_num_groups: number;
  motion_max_seq_length: number;
  use_motion_mid_block: boolean;
  motion_transformer_layers_per_block: number;
}

export interface VaeConfig {
  in_channels: number;
  out_channels: number;
  latent_channels: number;
  block_out_channels: number[];
  layers_per_block: number;
  norm_num_groups: number;
  scaling_factor: number;
  use_quant_conv: boolean;
  use_post_quant_conv: boolean;
  mid_block_add_attention: boolean;
}

export interface ClipTextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  hidden_act: 'quick_gelu' | 'gelu';
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
}

/** Motion-module GroupNorm statistics: per frame (AnimateDiff/AnimateLCM code) or across frames (diffusers). */
export type MotionGroupNorm = 'per_frame' | 'across_frames';

type Json = Record<string, unknown>;
const num = (j: Json, k: string, d: number): number => (typeof j[k] === 'number' ? (j[k] as number) : d);
const bool = (j: Json, k: string, d: boolean): boolean => (typeof j[k] === 'boolean' ? (j[k] as boolean) : d);
const arr = <T>(j: Json, k: string, d: T[]): T[] => (Array.isArray(j[k]) ? (j[k] as T[]) : d);

export function parseUNetConfig(j: Json): UNetConfig {
  const heads = j.num_attention_heads ?? j.attention_head_dim;
  return {
    in_channels: num(j, 'in_channels', 4),
    out_channels: num(j, 'out_channels', 4),
    block_out_channels: arr(j, 'block_out_channels', [320, 640, 1280, 1280]),
    layers_per_block: num(j, 'layers_per_block', 2),
    down_block_types: arr(j, 'down_block_types', ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D']).map((t) =>
      String(t).replace('Motion', '2D').replace('2D2D', '2D'),
    ),
    up_block_types: arr(j, 'up_block_types', ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D']).map((t) =>
      String(t).replace('Motion', '2D').replace('2D2D', '2D'),
    ),
    mid_block_type: j.mid_block_type === null ? null : String(j.mid_block_type ?? 'UNetMidBlock2DCrossAttn').replace('UNetMidBlockCrossAttnMotion', 'UNetMidBlock2DCrossAttn'),
    cross_attention_dim: num(j, 'cross_attention_dim', 768),
    attention_head_dim: typeof heads === 'number' || Array.isArray(heads) ? (heads as number | number[]) : 8,
    norm_num_groups: num(j, 'norm_num_groups', 32),
    norm_eps: num(j, 'norm_eps', 1e-5),
    use_linear_projection: bool(j, 'use_linear_projection', false),
    transformer_layers_per_block: num(j, 'transformer_layers_per_block', 1),
    flip_sin_to_cos: bool(j, 'flip_sin_to_cos', true),
    freq_shift: num(j, 'freq_shift', 0),
    downsample_padding: num(j, 'downsample_padding', 1),
  };
}

export function parseMotionConfig(j: Json): MotionConfig {
  return {
    block_out_channels: arr(j, 'block_out_channels', [320, 640, 1280, 1280]),
    motion_layers_per_block: num(j, 'motion_layers_per_block', 2),
    motion_mid_block_layers_per_block: num(j, 'motion_mid_block_layers_per_block', 1),
    motion_num_attention_heads: num(j, 'motion_num_attention_heads', 8),
    motion_norm_num_groups: num(j, 'motion_norm_num_groups', 32),
    motion_max_seq_length: num(j, 'motion_max_seq_length', 32),
    use_motion_mid_block: bool(j, 'use_motion_mid_block', true),
    motion_transformer_layers_per_block: num(j, 'motion_transformer_layers_per_block', 1),
  };
}

export function parseVaeConfig(j: Json): VaeConfig {
  return {
    in_channels: num(j, 'in_channels', 3),
    out_channels: num(j, 'out_channels', 3),
    latent_channels: num(j, 'latent_channels', 4),
    block_out_channels: arr(j, 'block_out_channels', [128, 256, 512, 512]),
    layers_per_block: num(j, 'layers_per_block', 2),
    norm_num_groups: num(j, 'norm_num_groups', 32),
    scaling_factor: num(j, 'scaling_factor', 0.18215),
    use_quant_conv: bool(j, 'use_quant_conv', true),
    use_post_quant_conv: bool(j, 'use_post_quant_conv', true),
    mid_block_add_attention: bool(j, 'mid_block_add_attention', true),
  };
}

export function parseClipTextConfig(j: Json): ClipTextConfig {
  return {
    vocab_size: num(j, 'vocab_size', 49408),
    hidden_size: num(j, 'hidden_size', 768),
    intermediate_size: num(j, 'intermediate_size', 3072),
    num_hidden_layers: num(j, 'num_hidden_layers', 12),
    num_attention_heads: num(j, 'num_attention_heads', 12),
    max_position_embeddings: num(j, 'max_position_embeddings', 77),
    layer_norm_eps: num(j, 'layer_norm_eps', 1e-5),
    hidden_act: j.hidden_act === 'gelu' ? 'gelu' : 'quick_gelu',
    bos_token_id: num(j, 'bos_token_id', 49406),
    eos_token_id: num(j, 'eos_token_id', 49407),
    pad_token_id: num(j, 'pad_token_id', 49407),
  };
}

/** The real SD1.5 / AnimateLCM configurations (diffusers defaults for these classes). */
export const SD15_UNET: UNetConfig = parseUNetConfig({ attention_head_dim: 8 });
export const ANIMATELCM_MOTION: MotionConfig = parseMotionConfig({});
export const SD15_VAE: VaeConfig = parseVaeConfig({});
export const CLIP_L_TEXT: ClipTextConfig = parseClipTextConfig({});
