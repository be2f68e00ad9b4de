import type { TensorTable, WeightSet } from '../io/tensor';
import { canonicalize, type Canonical } from '../names/canonicalize';
import { parseClipTextConfig, parseMotionConfig, parseUNetConfig, parseVaeConfig, type ClipTextConfig, type MotionConfig, type UNetConfig, type VaeConfig } from './configs';
import { FAMILIES, MOTION_VARIANTS, matches, type Facts, type FamilyId } from './family-table';
import { detectLora, type LoraBase } from './lora-detect';
import { canonicalizeControlNet, looksLikeControlNet } from '../names/controlnet-names';
import { hintDownscale } from './controlnet';

/**
 * Which model a table holds and its configuration, from tensor SHAPES (and key presence) only. A diffusers
 * folder's config.json, when present, is preferred for the fields shapes cannot show (heads, group counts).
 */
export interface DetectedMotion extends MotionConfig {
  variant: string;
  groupnorm_default: 'per_frame' | 'across_frames';
  has_img_encoder?: boolean;
  /** Positional-encoding length stored in the file, 0 when the file has none. */
  pe_length: number;
}

/** A ControlNet's encoder config (the UNet fields it uses), its file layout, and its control image's shape. */
export interface DetectedControlNet extends UNetConfig {
  layout: 'diffusers' | 'ldm';
  conditioning_channels: number;
  /** The control image is this many times the latent (3 stride-2 hint convs: 8, the VAE's factor). */
  hint_downscale: number;
}

export interface Detected {
  family: FamilyId;
  label: string;
  supported: boolean;
  message?: string;
  configs: { unet?: UNetConfig; vae?: VaeConfig; text_encoder?: ClipTextConfig; motion?: DetectedMotion; controlnet?: DetectedControlNet };
  lora?: { base: LoraBase; formats: string[]; motion: boolean };
  /** What was assumed rather than read (e.g. head counts), for `inspect` and logs. */
  notes: string[];
}

const count = (names: string[], re: RegExp): number => new Set(names.map((n) => re.exec(n)?.[1]).filter((x) => x !== undefined)).size;
const indices = (names: string[], re: RegExp): number[] =>
  [...new Set(names.map((n) => re.exec(n)?.[1]).filter((x): x is string => x !== undefined).map(Number))].sort((a, b) => a - b);
const dim = (w: WeightSet, name: string, axis: number): number => w.get(name)?.shape[axis] ?? 0;

function configFromMetadata(table: TensorTable, component: string): Record<string, unknown> | undefined {
  const text = table.metadata[`${component}.config`];
  if (!text) return undefined;
  try {
    const j: unknown = JSON.parse(text);
    return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function unetConfig(w: WeightSet, json: Record<string, unknown> | undefined, notes: string[]): UNetConfig {
  const names = w.names();
  const downs = indices(names, /^down_blocks\.(\d+)\./);
  const ups = indices(names, /^up_blocks\.(\d+)\./);
  const attnName = names.find((n) => /attn2\.to_k\.weight$/.test(n));
  const projIn = names.find((n) => /attentions\.\d+\.proj_in\.weight$/.test(n));
  const shapes: Partial<UNetConfig> = {
    in_channels: dim(w, 'conv_in.weight', 1),
    out_channels: dim(w, 'conv_out.weight', 0),
    block_out_channels: downs.map((i) => dim(w, `down_blocks.${i}.resnets.0.conv1.weight`, 0)),
    layers_per_block: count(names, /^down_blocks\.0\.resnets\.(\d+)\./),
    down_block_types: downs.map((i) => (names.some((n) => n.startsWith(`down_blocks.${i}.attentions.`)) ? 'CrossAttnDownBlock2D' : 'DownBlock2D')),
    up_block_types: ups.map((i) => (names.some((n) => n.startsWith(`up_blocks.${i}.attentions.`)) ? 'CrossAttnUpBlock2D' : 'UpBlock2D')),
    mid_block_type: names.some((n) => n.startsWith('mid_block.attentions.')) ? 'UNetMidBlock2DCrossAttn' : names.some((n) => n.startsWith('mid_block.resnets.')) ? 'UNetMidBlock2D' : null,
    cross_attention_dim: attnName ? dim(w, attnName, 1) : 768,
    use_linear_projection: projIn ? w.get(projIn)!.shape.length === 2 : false,
    transformer_layers_per_block: Math.max(1, count(names, /^(?:down_blocks\.\d+|mid_block)\.attentions\.0\.transformer_blocks\.(\d+)\./)),
  };
  if (json) return { ...parseUNetConfig(json), ...shapes };
  notes.push('UNet: attention heads (8) and GroupNorm groups (32) are not stored in the weights; SD1.5 values assumed.');
  return { ...parseUNetConfig({ attention_head_dim: 8 }), ...shapes };
}

function vaeConfig(w: WeightSet, json: Record<string, unknown> | undefined, notes: string[]): VaeConfig {
  const names = w.names();
  const downs = indices(names, /^encoder\.down_blocks\.(\d+)\./);
  const shapes: Partial<VaeConfig> = {
    in_channels: dim(w, 'encoder.conv_in.weight', 1),
    out_channels: dim(w, 'decoder.conv_out.weight', 0),
    latent_channels: dim(w, 'decoder.conv_in.weight', 1),
    block_out_channels: downs.map((i) => dim(w, `encoder.down_blocks.${i}.resnets.0.conv1.weight`, 0)),
    layers_per_block: count(names, /^encoder\.down_blocks\.0\.resnets\.(\d+)\./),
    use_quant_conv: w.has('quant_conv.weight'),
    use_post_quant_conv: w.has('post_quant_conv.weight'),
    mid_block_add_attention: names.some((n) => n.startsWith('decoder.mid_block.attentions.')),
  };
  if (json) return { ...parseVaeConfig(json), ...shapes };
  notes.push('VAE: GroupNorm groups (32) and scaling factor (0.18215) are not stored in the weights; SD1.5 values assumed.');
  return { ...parseVaeConfig({}), ...shapes };
}

function clipConfig(w: WeightSet, json: Record<string, unknown> | undefined, notes: string[]): ClipTextConfig {
  const hidden = dim(w, 'text_model.embeddings.token_embedding.weight', 1);
  const shapes: Partial<ClipTextConfig> = {
    vocab_size: dim(w, 'text_model.embeddings.token_embedding.weight', 0),
    hidden_size: hidden,
    max_position_embeddings: dim(w, 'text_model.embeddings.position_embedding.weight', 0),
    num_hidden_layers: count(w.names(), /^text_model\.encoder\.layers\.(\d+)\./),
    intermediate_size: dim(w, 'text_model.encoder.layers.0.mlp.fc1.weight', 0),
  };
  if (json) return { ...parseClipTextConfig(json), ...shapes };
  notes.push(`CLIP: heads = hidden/64 (${Math.max(1, Math.floor(hidden / 64))}) as in every CLIP text model; not stored in the weights.`);
  return { ...parseClipTextConfig({}), ...shapes, num_attention_heads: Math.max(1, Math.floor(hidden / 64)) };
}

function motionConfig(w: WeightSet, table: TensorTable, canonical: Canonical, json: Record<string, unknown> | undefined, notes: string[]): DetectedMotion {
  const names = w.names();
  const downs = indices(names, /^down_blocks\.(\d+)\.motion_modules\./);
  // Positional-encoding buffers are dropped from the weights but their length tells the version apart.
  const pe = canonical.dropped.find((n) => /\.(pos_encoder\.(pe|pos_encoding)|pos_embed\.pe)$/.test(n));
  const peLength = pe ? (table.get(pe)?.shape[1] ?? 0) : 0;
  const mid = names.some((n) => n.startsWith('mid_block.motion_modules.'));
  const img = table.names().some((n) => n.startsWith('img_encoder.'));
  const shapes: Partial<MotionConfig> = {
    block_out_channels: downs.map((i) => dim(w, `down_blocks.${i}.motion_modules.0.proj_in.weight`, 0)),
    motion_layers_per_block: count(names, /^down_blocks\.0\.motion_modules\.(\d+)\./),
    use_motion_mid_block: mid,
    motion_mid_block_layers_per_block: Math.max(1, count(names, /^mid_block\.motion_modules\.(\d+)\./)),
    motion_transformer_layers_per_block: Math.max(1, count(names, /^down_blocks\.0\.motion_modules\.0\.transformer_blocks\.(\d+)\./)),
  };
  if (peLength > 0) shapes.motion_max_seq_length = peLength;
  const base = json ? parseMotionConfig(json) : parseMotionConfig({});
  if (!json) notes.push('Motion module: attention heads (8) and GroupNorm groups (32) are not stored in the weights; AnimateDiff values assumed.');
  const row = MOTION_VARIANTS.find(
    (r) =>
      (r.imgEncoder === undefined || r.imgEncoder === img) &&
      (r.midBlock === undefined || r.midBlock === mid) &&
      (r.peLength === undefined || (r.peLength === 'absent' ? peLength === 0 : r.peLength === 'present' ? peLength > 0 : r.peLength === peLength)),
  )!;
  return { ...base, ...shapes, variant: row.variant, groupnorm_default: row.groupnorm_default, has_img_encoder: img, pe_length: peLength };
}

export function detectModel(table: TensorTable, canonical: Canonical = canonicalize(table)): Detected {
  const notes: string[] = [];
  const lora = detectLora(table);
  const c = canonical.components;
  const configs: Detected['configs'] = {};
  const names0 = table.names();
  const isControlNet = !lora && looksLikeControlNet(names0);
  if (isControlNet) {
    // SDXL / SD2 ControlNets have weights an SD1.5 one lacks: their facts come from raw shapes, and they are refused.
    try {
      const cn = canonicalizeControlNet(table);
      configs.controlnet = controlNetConfig(cn.weights, cn.layout, configFromMetadata(table, 'model'), notes);
    } catch {
      notes.push('ControlNet: some weights do not fit an SD1.5 ControlNet.');
    }
  } else if (!lora) {
    if (c.unet) configs.unet = unetConfig(c.unet, configFromMetadata(table, 'unet'), notes);
    if (c.vae) configs.vae = vaeConfig(c.vae, configFromMetadata(table, 'vae'), notes);
    if (c.text_encoder) configs.text_encoder = clipConfig(c.text_encoder, configFromMetadata(table, 'text_encoder'), notes);
    if (c.motion) configs.motion = motionConfig(c.motion, table, canonical, configFromMetadata(table, 'motion_adapter'), notes);
  }
  const names = table.names();
  const facts: Facts = {
    hasUnet: !!configs.unet,
    hasVae: !!configs.vae,
    hasClip: !!configs.text_encoder,
    hasMotion: !!configs.motion,
    isLora: !!lora,
    isControlNet,
    unetCross: configs.unet?.cross_attention_dim ?? (isControlNet ? crossWidth(table) : 0),
    unetIn: configs.unet?.in_channels ?? 0,
    sdxlMarkers: names.some((n) => /^(model\.diffusion_model\.label_emb\.|conditioner\.embedders\.1\.|add_embedding\.|unet\.add_embedding\.|text_encoder_2\.)/.test(n)),
    sd2Markers: names.some((n) => n.startsWith('cond_stage_model.model.')),
    clipHidden: configs.text_encoder?.hidden_size ?? 0,
  };
  const row = FAMILIES.find((f) => matches(f, facts))!;
  let label = row.label;
  if (configs.motion) label = row.id === 'motion' ? MOTION_VARIANTS.find((v) => v.variant === configs.motion!.variant)!.label : `${label} + motion module`;
  const out: Detected = { family: row.id, label, supported: row.supported, configs, notes };
  if (row.message) out.message = row.message;
  if (lora) {
    let base = lora.base;
    // Shapes first; kohya/modelspec metadata only settles what the shapes leave open (tiny or unusual files).
    if (base === 'unknown') base = baseFromMetadata(table.metadata);
    out.lora = { ...lora, base };
    out.label = `${row.label} for ${{ sd15: 'SD1.5', sdxl: 'SDXL', sd2: 'SD2.x', unknown: 'an unknown base model' }[base]}`;
    if (base === 'sdxl' || base === 'sd2') {
      out.supported = false;
      out.message = `This LoRA is for ${base === 'sdxl' ? 'SDXL' : 'Stable Diffusion 2.x'}; AnimateLCM needs SD1.5 LoRAs.`;
    }
  }
  return out;
}

/** Cross-attention key width from raw names (any layout): 768 SD1.5, 1024 SD2, 2048 SDXL. */
function crossWidth(table: TensorTable): number {
  const k = table.names().find((n) => /attn2\.to_k\.weight$/.test(n));
  return (k && table.get(k)?.shape[1]) || 0;
}

function controlNetConfig(w: WeightSet, layout: 'diffusers' | 'ldm', json: Record<string, unknown> | undefined, notes: string[]): DetectedControlNet {
  const unet = unetConfig(w, json, notes);
  return {
    ...unet,
    up_block_types: [],
    layout,
    conditioning_channels: dim(w, 'controlnet_cond_embedding.conv_in.weight', 1),
    hint_downscale: hintDownscale(w),
  };
}

function baseFromMetadata(md: Record<string, string>): LoraBase {
  const v = (md.ss_base_model_version ?? md['modelspec.architecture'] ?? '').toLowerCase();
  if (v.startsWith('sdxl') || v.includes('stable-diffusion-xl')) return 'sdxl';
  if (v.startsWith('sd_v2') || v.includes('stable-diffusion-v2') || md.ss_v2 === 'True') return 'sd2';
  if (v.startsWith('sd_v1') || v.includes('stable-diffusion-v1')) return 'sd15';
  return 'unknown';
}

/** One log line for what was detected (channels, heads, motion length, mid block, GroupNorm mode). */
export function summarizeDetected(d: Detected): string {
  const parts = [`${d.family}: ${d.label}${d.supported ? '' : ' (not supported)'}`];
  const { unet, vae, text_encoder: te, motion } = d.configs;
  if (unet) {
    const heads = Array.isArray(unet.attention_head_dim) ? unet.attention_head_dim.join('/') : unet.attention_head_dim;
    parts.push(`unet ch ${unet.block_out_channels.join('/')} ×${unet.layers_per_block} in ${unet.in_channels} ctx ${unet.cross_attention_dim} heads ${heads}`);
  }
  if (vae) parts.push(`vae ch ${vae.block_out_channels.join('/')} latent ${vae.latent_channels}`);
  if (te) parts.push(`clip ${te.num_hidden_layers}×${te.hidden_size} heads ${te.num_attention_heads}`);
  if (motion) {
    parts.push(
      `motion ${motion.variant} ch ${motion.block_out_channels.join('/')} ×${motion.motion_layers_per_block} heads ${motion.motion_num_attention_heads} ` +
        `seq ${motion.motion_max_seq_length} mid ${motion.use_motion_mid_block ? 'yes' : 'no'} groupnorm ${motion.groupnorm_default}`,
    );
  }
  if (d.lora) parts.push(`lora for ${d.lora.base} (${d.lora.formats.join(', ')})`);
  return parts.join('; ');
}
