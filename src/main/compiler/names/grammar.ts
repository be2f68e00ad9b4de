/**
 * What a valid diffusers name looks like for each component. Canonicalisation maps every layout onto these
 * spellings; a name that still does not fit after mapping is reported as unmatched instead of being passed on
 * to a graph builder that would not know it.
 */
export type Component = 'unet' | 'vae' | 'text_encoder' | 'motion' | 'img_encoder';

const WB = String.raw`\.(weight|bias)$`;
const TRANSFORMER_BLOCK = String.raw`transformer_blocks\.\d+\.(norm[123]|attn[12]\.to_[qkv]|attn[12]\.to_out\.0|ff\.net\.0\.proj|ff\.net\.2)`;
const UNET_BLOCK = String.raw`(down_blocks\.\d+|up_blocks\.\d+|mid_block)`;
const RESNET = String.raw`resnets\.\d+\.(norm1|conv1|time_emb_proj|norm2|conv2|conv_shortcut)`;

export const DIFFUSERS_GRAMMAR: Record<Component, RegExp[]> = {
  unet: [
    new RegExp(String.raw`^(conv_in|conv_out|conv_norm_out|time_embedding\.linear_[12])${WB}`),
    new RegExp(String.raw`^${UNET_BLOCK}\.${RESNET}${WB}`),
    new RegExp(String.raw`^(down_blocks\.\d+\.downsamplers|up_blocks\.\d+\.upsamplers)\.0\.conv${WB}`),
    new RegExp(String.raw`^${UNET_BLOCK}\.attentions\.\d+\.(norm|proj_in|proj_out)${WB}`),
    new RegExp(String.raw`^${UNET_BLOCK}\.attentions\.\d+\.${TRANSFORMER_BLOCK}${WB}`),
  ],
  vae: [
    new RegExp(String.raw`^(encoder|decoder)\.(conv_in|conv_out|conv_norm_out)${WB}`),
    new RegExp(String.raw`^(encoder\.down_blocks|decoder\.up_blocks)\.\d+\.resnets\.\d+\.(norm1|conv1|norm2|conv2|conv_shortcut)${WB}`),
    new RegExp(String.raw`^(encoder\.down_blocks\.\d+\.downsamplers|decoder\.up_blocks\.\d+\.upsamplers)\.0\.conv${WB}`),
    new RegExp(String.raw`^(encoder|decoder)\.mid_block\.resnets\.\d+\.(norm1|conv1|norm2|conv2|conv_shortcut)${WB}`),
    new RegExp(String.raw`^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)${WB}`),
    new RegExp(String.raw`^(quant_conv|post_quant_conv)${WB}`),
  ],
  text_encoder: [
    /^text_model\.embeddings\.(token_embedding|position_embedding)\.weight$/,
    new RegExp(String.raw`^text_model\.encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|layer_norm[12]|mlp\.fc[12])${WB}`),
    new RegExp(String.raw`^text_model\.final_layer_norm${WB}`),
  ],
  motion: [
    new RegExp(String.raw`^${UNET_BLOCK}\.motion_modules\.\d+\.(norm|proj_in|proj_out)${WB}`),
    new RegExp(String.raw`^${UNET_BLOCK}\.motion_modules\.\d+\.${TRANSFORMER_BLOCK}${WB}`),
  ],
  // AnimateLCM-I2V's image encoder (models/adapter.py Adapter); its own names are the canonical ones.
  img_encoder: [new RegExp(String.raw`^(conv_in|body\.\d+\.(in_conv|block1|block2))${WB}`)],
};

export function isDiffusersName(component: Component, name: string): boolean {
  return DIFFUSERS_GRAMMAR[component].some((re) => re.test(name));
}
