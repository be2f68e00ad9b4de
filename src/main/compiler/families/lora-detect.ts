import type { TensorTable } from '../io/tensor';

/**
 * Recognises adapter files (LoRA and LyCORIS in their common spellings) and the base model they were trained
 * for, from key prefixes and shapes. The maths lives with the LoRA engine; this only names what a file is.
 */
export type LoraBase = 'sd15' | 'sdxl' | 'sd2' | 'unknown';

const FORMATS: Array<{ format: string; re: RegExp }> = [
  { format: 'kohya', re: /^lora_(unet|te\d?)_.+\.lora_(down|up)\.weight$/ },
  { format: 'diffusers_peft', re: /\.lora_[AB](\.[a-z_]+)?\.weight$/ },
  { format: 'diffusers_attn_procs', re: /\.processor\.(to_[qkv]|to_out)(_lora|\.0\.lora)?(\.lora)?\.(down|up)\.weight$|\.processor\.to_[a-z_]+_lora\.(down|up)\.weight$/ },
  { format: 'diffusers_lora_layers', re: /\.lora\.(down|up)\.weight$/ },
  { format: 'lycoris_loha', re: /\.hada_w[12]_[ab]$/ },
  { format: 'lycoris_lokr', re: /\.lokr_w[12](_[ab])?$/ },
  { format: 'full_diff', re: /^lora_(unet|te\d?)_.+\.diff$/ },
  { format: 'kohya_lora_mid', re: /\.lora_mid\.weight$/ },
];

export interface LoraInfo {
  base: LoraBase;
  formats: string[];
  /** Targets the motion modules (AnimateDiff MotionLoRA) rather than the spatial UNet. */
  motion: boolean;
}

/** Keys whose second dimension is the cross-attention context width (attn2 key/value projections). */
const CONTEXT_KEY = /(attn2[._]to_[kv]|attn2\.processor\.to_[kv]_lora)[._].*(lora_down|lora_A|down|hada_w1_b|hada_w2_b)(\.[a-z_]+)?(\.weight)?$/;
/** Text-encoder down projections, whose second dimension is the encoder width (768 CLIP-L, 1024 OpenCLIP-H). */
const TE_KEY = /^(lora_te_|text_encoder\.).*(q_proj|k_proj|v_proj)[._].*(lora_down|lora_A)\.weight$/;

export function detectLora(table: TensorTable): LoraInfo | undefined {
  const names = table.names();
  const formats = FORMATS.filter((f) => names.some((n) => f.re.test(n))).map((f) => f.format);
  if (formats.length === 0) return undefined;
  const motion = names.some((n) => n.includes('motion_modules'));
  let base: LoraBase = 'unknown';
  const contextWidths = new Set<number>();
  for (const n of names) {
    if (!CONTEXT_KEY.test(n)) continue;
    const s = table.get(n)?.shape;
    if (s && s.length >= 2) contextWidths.add(s[1]);
  }
  const teWidths = new Set<number>();
  for (const n of names) {
    if (!TE_KEY.test(n)) continue;
    const s = table.get(n)?.shape;
    if (s && s.length >= 2) teWidths.add(s[1]);
  }
  const sdxlPrefix = names.some((n) => /^lora_te[12]_|^text_encoder_2\.|^lora_unet_(input|output|middle)_blocks?_\d+_1_transformer_blocks_[1-9]/.test(n));
  if (sdxlPrefix || contextWidths.has(2048)) base = 'sdxl';
  else if (contextWidths.has(1024) || teWidths.has(1024)) base = 'sd2';
  else if (contextWidths.has(768) || teWidths.has(768) || motion) base = 'sd15';
  return { base, formats, motion };
}
