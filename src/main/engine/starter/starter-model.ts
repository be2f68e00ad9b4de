import { parseClipTextConfig, parseMotionConfig, parseUNetConfig, parseVaeConfig, type ClipTextConfig, type MotionConfig, type UNetConfig, type VaeConfig } from '../../compiler/families/configs';
import {
  clipTextParameterShapes,
  motionParameterShapes,
  unetParameterShapes,
  vaeParameterShapes,
  type ShapeMap,
} from '../../compiler/families/parameter-shapes';
import { MemoryWeights, numel } from '../../compiler/io/tensor';
import { imageEncoderParameterShapes } from '../../compiler/families/image-encoder';

/**
 * The starter model: a small random-weight model in the real AnimateLCM architecture (UNet with cross-attention,
 * motion modules, KL-VAE with the real 8× latent factor, CLIP text encoder over the real 49,408-token vocabulary),
 * so every feature of the studio can be tried and tested end to end on a fresh machine without a download.
 * Its output is abstract colour and motion, not pictures: it is labelled as a pipeline test model everywhere.
 *
 * Weights are a pure function of (parameter name, STARTER_SEED): the same bytes on every machine and run, made
 * lazily tensor by tensor, so the compiled artefacts cache like any creator's checkpoint.
 */
export const STARTER_MODEL_ID = 'starter-v2';
export const STARTER_LABEL = 'Starter test model (random weights — abstract output)';
const STARTER_SEED = 0x5eed_a11c;

export const STARTER_UNET: UNetConfig = parseUNetConfig({
  block_out_channels: [32, 64, 64, 64],
  layers_per_block: 1,
  // No attention at full latent resolution (SD1.5 has it there): self-attention over 64×64 positions per frame
  // would dominate a CPU step while adding nothing to a test model. Blocks 1–2 still exercise cross-attention.
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  cross_attention_dim: 64,
  attention_head_dim: 4,
  norm_num_groups: 8,
});

export const STARTER_MOTION: MotionConfig = parseMotionConfig({
  block_out_channels: [32, 64, 64, 64],
  motion_layers_per_block: 1,
  motion_num_attention_heads: 4,
  motion_norm_num_groups: 8,
  motion_max_seq_length: 32,
  use_motion_mid_block: true,
});

export const STARTER_VAE: VaeConfig = parseVaeConfig({
  block_out_channels: [16, 32, 32, 32],
  layers_per_block: 1,
  norm_num_groups: 8,
});

export const STARTER_TEXT: ClipTextConfig = parseClipTextConfig({
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 2,
});

/** AnimateLCM-I2V's image encoder at the starter's channels, so image-to-video runs end to end without downloads. */
export const STARTER_IMG_ENCODER = { cin: 4, channels: [32, 64, 64, 64], blocksPerLevel: 2 } as const;

export interface StarterModel {
  id: string;
  label: string;
  configs: { unet: UNetConfig; motion: MotionConfig; vae: VaeConfig; text_encoder: ClipTextConfig };
  unet: MemoryWeights;
  motion: MemoryWeights;
  vae: MemoryWeights;
  text_encoder: MemoryWeights;
  img_encoder: MemoryWeights;
}

export function starterModel(): StarterModel {
  return {
    id: STARTER_MODEL_ID,
    label: STARTER_LABEL,
    configs: { unet: STARTER_UNET, motion: STARTER_MOTION, vae: STARTER_VAE, text_encoder: STARTER_TEXT },
    unet: randomWeights(unetParameterShapes(STARTER_UNET), 'unet'),
    motion: randomWeights(motionParameterShapes(STARTER_MOTION), 'motion'),
    vae: randomWeights(vaeParameterShapes(STARTER_VAE), 'vae'),
    text_encoder: randomWeights(clipTextParameterShapes(STARTER_TEXT), 'text_encoder'),
    img_encoder: randomWeights(imageEncoderParameterShapes(STARTER_IMG_ENCODER.cin, STARTER_IMG_ENCODER.channels, STARTER_IMG_ENCODER.blocksPerLevel), 'img_encoder'),
  };
}

/**
 * PyTorch-like initialisation so activations stay in a sane range: weights U(−1/√fan_in, 1/√fan_in) (what
 * nn.Linear/nn.Conv2d's default init amounts to), biases likewise, norm scales 1 and shifts 0, embeddings
 * N(0, 0.02²) as CLIP initialises them.
 */
export function randomWeights(shapes: ShapeMap, component: string, seed = STARTER_SEED): MemoryWeights {
  const w = new MemoryWeights();
  for (const [name, shape] of shapes) {
    w.set(name, shape, () => initTensor(name, shape, `${component}:${name}`, seed));
  }
  return w;
}

function initTensor(name: string, shape: number[], key: string, seed: number): Float32Array {
  const n = numel(shape);
  const out = new Float32Array(n);
  const isNorm = /(^|\.)(norm\d?|group_norm|layer_norm\d|final_layer_norm|conv_norm_out|norm)\.(weight|bias)$/.test(name);
  if (isNorm) {
    if (name.endsWith('.weight')) out.fill(1);
    return out;
  }
  const rng = new Xoshiro128(hashString(key) ^ seed);
  if (name.includes('embedding.weight') && name.startsWith('text_model.embeddings')) {
    for (let i = 0; i < n; i += 2) {
      const u1 = Math.max(rng.next(), 1e-12);
      const u2 = rng.next();
      const r = Math.sqrt(-2 * Math.log(u1)) * 0.02;
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }
  const fanIn = shape.length >= 2 ? numel(shape.slice(1)) : biasFanIn(shape[0]);
  const bound = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound;
  return out;
}

function biasFanIn(channels: number): number {
  return Math.max(channels, 1);
}

/** FNV-1a, 32-bit. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** xoshiro128** seeded through splitmix32: small, fast, identical on every platform. */
class Xoshiro128 {
  private s = new Uint32Array(4);
  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }
  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
