/**
 * Model families as data. Detection computes a handful of shape facts (families/facts.ts) and picks the first
 * entry whose every condition holds; nothing here looks at file names. Adding a family = adding a row.
 */
export type FamilyId = 'controlnet' | 'sd15' | 'unet' | 'vae' | 'clip' | 'motion' | 'lora' | 'sdxl' | 'sd2' | 'sd15_inpaint' | 'unknown';

/** Facts read from tensor shapes and key presence. Numbers are 0 when the tensor is absent. */
export interface Facts {
  hasUnet: boolean;
  hasVae: boolean;
  hasClip: boolean;
  hasMotion: boolean;
  isLora: boolean;
  /** ControlNet keys (hint block, zero convs) in either layout. */
  isControlNet: boolean;
  /** Width of the UNet's cross-attention keys (attn2.to_k input): 768 SD1, 1024 SD2, 2048 SDXL. */
  unetCross: number;
  unetIn: number;
  /** SDXL-only tensors: label/add embeddings, a second (OpenCLIP bigG) text encoder. */
  sdxlMarkers: boolean;
  /** SD2's OpenCLIP-H text encoder (`cond_stage_model.model.`), hidden size 1024. */
  sd2Markers: boolean;
  clipHidden: number;
}

type Condition = { [K in keyof Facts]?: Facts[K] | { gt: number } | { not: Facts[K] } };

export interface FamilyRow {
  id: FamilyId;
  label: string;
  supported: boolean;
  message?: string;
  when: Condition;
}

const NEED_SD15 = 'AnimateLCM needs a Stable Diffusion 1.5 model (SD1.5 checkpoints and fine-tunes); pick an SD1.5 version of this model.';

const NEED_SD15_CONTROLNET = 'AnimateLCM needs SD1.5 ControlNets (control_v11p_sd15_* and other ControlNets trained on SD1.5).';

export const FAMILIES: readonly FamilyRow[] = [
  { id: 'lora', label: 'LoRA / LyCORIS adapter', supported: true, when: { isLora: true } },
  { id: 'sdxl', label: 'SDXL ControlNet', supported: false, message: `This is an SDXL ControlNet. ${NEED_SD15_CONTROLNET}`, when: { isControlNet: true, sdxlMarkers: true } },
  { id: 'sdxl', label: 'SDXL ControlNet', supported: false, message: `This is an SDXL ControlNet. ${NEED_SD15_CONTROLNET}`, when: { isControlNet: true, unetCross: 2048 } },
  { id: 'sd2', label: 'Stable Diffusion 2.x ControlNet', supported: false, message: `This is a Stable Diffusion 2.x ControlNet. ${NEED_SD15_CONTROLNET}`, when: { isControlNet: true, unetCross: 1024 } },
  { id: 'controlnet', label: 'SD1.5 ControlNet', supported: true, when: { isControlNet: true } },
  { id: 'sdxl', label: 'Stable Diffusion XL model', supported: false, message: `This is an SDXL model. ${NEED_SD15}`, when: { sdxlMarkers: true } },
  { id: 'sdxl', label: 'Stable Diffusion XL model', supported: false, message: `This is an SDXL model. ${NEED_SD15}`, when: { unetCross: 2048 } },
  { id: 'sd2', label: 'Stable Diffusion 2.x model', supported: false, message: `This is a Stable Diffusion 2.x model. ${NEED_SD15}`, when: { unetCross: 1024 } },
  { id: 'sd2', label: 'Stable Diffusion 2.x model', supported: false, message: `This is a Stable Diffusion 2.x model. ${NEED_SD15}`, when: { sd2Markers: true } },
  { id: 'sd2', label: 'Stable Diffusion 2.x text encoder', supported: false, message: `This is a Stable Diffusion 2.x text encoder. ${NEED_SD15}`, when: { hasUnet: false, clipHidden: 1024 } },
  {
    id: 'sd15_inpaint', label: 'Stable Diffusion 1.5 inpainting model', supported: false,
    message: 'This is an SD1.5 inpainting model (9 input channels), which the studio does not support yet. Use a regular SD1.5 checkpoint.',
    when: { unetIn: 9 },
  },
  { id: 'sd15', label: 'Stable Diffusion 1.5 checkpoint', supported: true, when: { hasUnet: true, unetCross: 768, unetIn: 4, hasVae: true, hasClip: true } },
  { id: 'unet', label: 'UNet', supported: true, when: { hasUnet: true } },
  { id: 'motion', label: 'Motion module', supported: true, when: { hasMotion: true } },
  { id: 'vae', label: 'VAE', supported: true, when: { hasVae: true, hasClip: false } },
  { id: 'clip', label: 'CLIP text encoder', supported: true, when: { hasClip: true, hasVae: false } },
  {
    id: 'unknown', label: 'Unrecognised model', supported: false,
    message: 'The studio does not recognise this model. It reads SD1.5 checkpoints, VAEs, CLIP text encoders, AnimateDiff/AnimateLCM motion modules and LoRAs.',
    when: {},
  },
];

export function matches(row: FamilyRow, facts: Facts): boolean {
  return Object.entries(row.when).every(([k, want]) => {
    const have = facts[k as keyof Facts];
    if (typeof want === 'object' && want !== null) {
      if ('gt' in want) return typeof have === 'number' && have > want.gt;
      if ('not' in want) return have !== want.not;
    }
    return have === want;
  });
}

/** Motion-module variants (ComfyUI-AnimateDiff-Evolved's rules, tech brief §2.3/§2.5), first match wins. */
export interface MotionVariantRow {
  variant: string;
  label: string;
  /** PE length in the file (0 = no positional buffers at all), undefined = any. */
  peLength?: number | 'absent' | 'present';
  midBlock?: boolean;
  imgEncoder?: boolean;
  groupnorm_default: 'per_frame' | 'across_frames';
}

// AnimateDiff and AnimateLCM were all trained with the original code, which normalises each frame on its own
// in the motion module, whatever container the weights are shipped in.
export const MOTION_VARIANTS: readonly MotionVariantRow[] = [
  { variant: 'animatelcm-i2v', label: 'AnimateLCM I2V motion module (with image encoder)', imgEncoder: true, groupnorm_default: 'per_frame' },
  { variant: 'animatelcm-t2v', label: 'AnimateLCM T2V motion module', peLength: 'absent', midBlock: true, groupnorm_default: 'per_frame' },
  { variant: 'v1', label: 'AnimateDiff v1 motion module', peLength: 24, groupnorm_default: 'per_frame' },
  { variant: 'v2', label: 'AnimateDiff v2-style motion module (v2 / AnimateLCM)', midBlock: true, peLength: 'present', groupnorm_default: 'per_frame' },
  { variant: 'v3', label: 'AnimateDiff v3 motion module', midBlock: false, peLength: 'present', groupnorm_default: 'per_frame' },
  { variant: 'unknown', label: 'Motion module (version not recognised)', groupnorm_default: 'per_frame' },
];
