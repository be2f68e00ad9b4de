/**
 * Renaming rules from every known layout to diffusers names, one table per component. A rule is a pattern and a
 * replacement that may consult a context derived from the whole key set (layers per block, number of decoder
 * blocks), so the same table serves SD1.5's 2-layer/4-block UNet and the tiny 1-layer/2-block fixtures alike.
 * The first matching rule wins; names no rule matches are already diffusers names (or will be reported).
 */
import type { Component } from './grammar';

export interface NameContext {
  /** UNet LDM: layers per down block (L); up blocks have L+1. */
  unetLayers: number;
  /** UNet LDM: middle_block.k → its diffusers part ('resnets.0', 'attentions.0', 'resnets.1'). */
  unetMid: Map<number, string>;
  /** VAE LDM: number of decoder up blocks, to reverse their order. */
  vaeUpBlocks: number;
}

export interface Rule {
  re: RegExp;
  to: (m: RegExpMatchArray, ctx: NameContext) => string | undefined;
  /** The layout this rule recognises (reported in Canonical.layout). */
  layout: 'ldm' | 'animatediff' | 'diffusers-legacy' | 'transformers-legacy';
}

/** LDM resnet part → diffusers resnet part (UNet). */
const UNET_RESNET: Record<string, string> = {
  'in_layers.0': 'norm1', 'in_layers.2': 'conv1', 'emb_layers.1': 'time_emb_proj',
  'out_layers.0': 'norm2', 'out_layers.3': 'conv2', skip_connection: 'conv_shortcut',
};
const unetResnetPart = (rest: string): string | undefined => {
  const m = /^(in_layers\.[02]|emb_layers\.1|out_layers\.[03]|skip_connection)\.(weight|bias)$/.exec(rest);
  return m ? `${UNET_RESNET[m[1]]}.${m[2]}` : undefined;
};

/** LDM mid/attention part of the VAE → diffusers. */
const VAE_ATTN: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };

const UNET_TOP: Record<string, string> = {
  'time_embed.0': 'time_embedding.linear_1', 'time_embed.2': 'time_embedding.linear_2',
  'input_blocks.0.0': 'conv_in', 'out.0': 'conv_norm_out', 'out.2': 'conv_out',
};

export const RULES: Record<Component, Rule[]> = {
  unet: [
    { layout: 'ldm', re: /^(time_embed\.[02]|input_blocks\.0\.0|out\.[02])\.(weight|bias)$/, to: (m) => `${UNET_TOP[m[1]]}.${m[2]}` },
    {
      layout: 'ldm',
      re: /^input_blocks\.(\d+)\.0\.op\.(weight|bias)$/,
      to: (m, c) => {
        const n = Number(m[1]);
        return n % (c.unetLayers + 1) === 0 ? `down_blocks.${n / (c.unetLayers + 1) - 1}.downsamplers.0.conv.${m[2]}` : undefined;
      },
    },
    {
      layout: 'ldm',
      re: /^input_blocks\.(\d+)\.([01])\.(.+)$/,
      to: (m, c) => {
        const n = Number(m[1]) - 1;
        const i = Math.floor(n / (c.unetLayers + 1));
        const j = n % (c.unetLayers + 1);
        if (n < 0 || j >= c.unetLayers) return undefined;
        if (m[2] === '1') return `down_blocks.${i}.attentions.${j}.${m[3]}`;
        const part = unetResnetPart(m[3]);
        return part && `down_blocks.${i}.resnets.${j}.${part}`;
      },
    },
    {
      layout: 'ldm',
      re: /^output_blocks\.(\d+)\.([12])\.conv\.(weight|bias)$/,
      to: (m, c) => {
        const n = Number(m[1]);
        return n % (c.unetLayers + 1) === c.unetLayers ? `up_blocks.${Math.floor(n / (c.unetLayers + 1))}.upsamplers.0.conv.${m[3]}` : undefined;
      },
    },
    {
      layout: 'ldm',
      re: /^output_blocks\.(\d+)\.([01])\.(.+)$/,
      to: (m, c) => {
        const n = Number(m[1]);
        const i = Math.floor(n / (c.unetLayers + 1));
        const j = n % (c.unetLayers + 1);
        if (m[2] === '1') return `up_blocks.${i}.attentions.${j}.${m[3]}`;
        const part = unetResnetPart(m[3]);
        return part && `up_blocks.${i}.resnets.${j}.${part}`;
      },
    },
    {
      layout: 'ldm',
      re: /^middle_block\.(\d+)\.(.+)$/,
      to: (m, c) => {
        const part = c.unetMid.get(Number(m[1]));
        if (!part) return undefined;
        if (part.startsWith('attentions')) return `mid_block.${part}.${m[2]}`;
        const r = unetResnetPart(m[2]);
        return r && `mid_block.${part}.${r}`;
      },
    },
  ],
  vae: [
    { layout: 'ldm', re: /^(encoder|decoder)\.norm_out\.(weight|bias)$/, to: (m) => `${m[1]}.conv_norm_out.${m[2]}` },
    {
      layout: 'ldm',
      re: /^encoder\.down\.(\d+)\.block\.(\d+)\.(norm1|conv1|norm2|conv2|nin_shortcut)\.(weight|bias)$/,
      to: (m) => `encoder.down_blocks.${m[1]}.resnets.${m[2]}.${m[3] === 'nin_shortcut' ? 'conv_shortcut' : m[3]}.${m[4]}`,
    },
    { layout: 'ldm', re: /^encoder\.down\.(\d+)\.downsample\.conv\.(weight|bias)$/, to: (m) => `encoder.down_blocks.${m[1]}.downsamplers.0.conv.${m[2]}` },
    {
      layout: 'ldm',
      re: /^decoder\.up\.(\d+)\.block\.(\d+)\.(norm1|conv1|norm2|conv2|nin_shortcut)\.(weight|bias)$/,
      to: (m, c) => {
        const b = c.vaeUpBlocks - 1 - Number(m[1]);
        return b >= 0 ? `decoder.up_blocks.${b}.resnets.${m[2]}.${m[3] === 'nin_shortcut' ? 'conv_shortcut' : m[3]}.${m[4]}` : undefined;
      },
    },
    {
      layout: 'ldm',
      re: /^decoder\.up\.(\d+)\.upsample\.conv\.(weight|bias)$/,
      to: (m, c) => {
        const b = c.vaeUpBlocks - 1 - Number(m[1]);
        return b >= 0 ? `decoder.up_blocks.${b}.upsamplers.0.conv.${m[2]}` : undefined;
      },
    },
    {
      layout: 'ldm',
      re: /^(encoder|decoder)\.mid\.block_([12])\.(norm1|conv1|norm2|conv2|nin_shortcut)\.(weight|bias)$/,
      to: (m) => `${m[1]}.mid_block.resnets.${Number(m[2]) - 1}.${m[3] === 'nin_shortcut' ? 'conv_shortcut' : m[3]}.${m[4]}`,
    },
    { layout: 'ldm', re: /^(encoder|decoder)\.mid\.attn_1\.(norm|q|k|v|proj_out)\.(weight|bias)$/, to: (m) => `${m[1]}.mid_block.attentions.0.${VAE_ATTN[m[2]]}.${m[3]}` },
    // diffusers < 0.14 saved the VAE attention as query/key/value/proj_attn.
    {
      layout: 'diffusers-legacy',
      re: /^(encoder|decoder)\.mid_block\.attentions\.0\.(query|key|value|proj_attn)\.(weight|bias)$/,
      to: (m) => `${m[1]}.mid_block.attentions.0.${{ query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' }[m[2]]}.${m[3]}`,
    },
  ],
  text_encoder: [
    // Older (NovelAI-derived) checkpoints lack the `text_model.` level.
    { layout: 'transformers-legacy', re: /^((?:embeddings|encoder|final_layer_norm)\..+)$/, to: (m) => `text_model.${m[1]}` },
  ],
  motion: [
    {
      layout: 'animatediff',
      re: /^(.*\.motion_modules\.\d+)\.temporal_transformer\.(.+)$/,
      to: (m) => `${m[1]}.${m[2].replace(/\.attention_blocks\.(\d+)\./, (_s, k: string) => `.attn${Number(k) + 1}.`).replace(/\.norms\.(\d+)\./, (_s, k: string) => `.norm${Number(k) + 1}.`).replace('.ff_norm.', '.norm3.')}`,
    },
  ],
  img_encoder: [],
};

/** Keys recognised as carrying nothing the studio needs: dropped, and listed so `inspect` can show them. */
export const DROP_PATTERNS: Array<{ re: RegExp; why: string }> = [
  { re: /^model_ema\./, why: 'EMA copy of the weights' },
  { re: /^(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_[a-z_]+|log_one_minus_alphas_cumprod|posterior_[a-z_0-9]+|logvar)$/, why: 'training scheduler buffer' },
  { re: /(^|\.)position_ids$/, why: 'CLIP position ids (regenerated as 0..76)' },
  { re: /\.pos_encoder\.(pe|pos_encoding)$/, why: 'motion positional-encoding buffer (recomputed)' },
  { re: /\.pos_embed\.pe$/, why: 'motion positional-encoding buffer (recomputed)' },
];
