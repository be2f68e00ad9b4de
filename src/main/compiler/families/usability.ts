/**
 * Whether a detected checkpoint can be the generation's model, and what it is in a creator's words. Decided once
 * from the detection (shapes only) and used by both the library at import (label, usable, reason on the card) and
 * the engine when a generation opens the file, so a file the library calls usable is one the engine runs.
 */
import type { Detected } from './detect';

/** CLIP ViT-L/14's BPE vocabulary: the studio's tokenizer emits ids up to 49,407 (SD1.5's text encoder). */
export const CLIP_VOCAB_SIZE = 49408;
/** Tokens per prompt chunk the pipeline gives the text encoder. */
export const CLIP_POSITIONS = 77;

export type ModelPart = 'unet' | 'vae' | 'text_encoder' | 'motion';

/** Which check failed: the family (SDXL, SD2, inpainting …), missing parts, or a text encoder the tokenizer cannot feed. */
export type UsabilityProblem = 'family' | 'parts' | 'text_encoder';

export interface Usability {
  /** The components the file holds. */
  parts: ModelPart[];
  usable: boolean;
  /** What the file is, e.g. "Stable Diffusion 1.5 checkpoint" or "SD1.5 UNet only (no VAE, no text encoder)". */
  label: string;
  /** Why it cannot be used and what to do instead; null when usable. */
  message: string | null;
  problem: UsabilityProblem | null;
}

const PART_WORD: Record<ModelPart, string> = { unet: 'UNet', vae: 'VAE', text_encoder: 'text encoder', motion: 'motion module' };
const NEEDED: readonly ModelPart[] = ['unet', 'vae', 'text_encoder'];
const FULL = 'AnimateLCM needs a full SD1.5 checkpoint (UNet, VAE and text encoder in one file, or a diffusers folder)';

const withArticles = (parts: readonly ModelPart[], joiner: string): string => parts.map((p) => `a ${PART_WORD[p]}`).join(joiner);

/** A checkpoint's usability as the generation's model. */
export function checkpointUsability(d: Detected): Usability {
  const { unet, vae, text_encoder: te, motion } = d.configs;
  const parts: ModelPart[] = [];
  if (unet) parts.push('unet');
  if (vae) parts.push('vae');
  if (te) parts.push('text_encoder');
  if (motion) parts.push('motion');
  const result = (usable: boolean, label: string, message: string | null, problem: UsabilityProblem | null): Usability => ({ parts, usable, label, message, problem });
  if (!d.supported) return result(false, d.label, d.message ?? `This is a ${d.label}; ${FULL}.`, 'family');

  const missing = NEEDED.filter((p) => !parts.includes(p));
  const sd15Sized = unet?.cross_attention_dim === 768 && unet.in_channels === 4;
  const withMotion = motion ? ' + motion module' : '';
  if (missing.length > 0) {
    const has = NEEDED.filter((p) => parts.includes(p));
    const what = has.length === 1 ? `${PART_WORD[has[0]]} only` : has.map((p) => PART_WORD[p]).join(' + ');
    const label = `${sd15Sized ? 'SD1.5 ' : ''}${what}${withMotion} (no ${missing.map((p) => PART_WORD[p]).join(', no ')})`;
    const message = `This file holds ${has.length === 1 ? 'only ' : ''}${withArticles(has, ' and ')}, without ${withArticles(missing, ' or ')}. ${FULL}; use the full version of this model.`;
    return result(false, label, message, 'parts');
  }
  // Complete: an SD1.5 checkpoint, or one with SD1.5's layout at another size (test and distilled models).
  const complete = d.family === 'sd15' ? d.label : `Checkpoint with UNet, VAE and text encoder${withMotion} (not SD1.5-sized)`;
  const withTextEncoder = (what: string): string => (complete.endsWith(')') ? `${complete.slice(0, -1)}; ${what})` : `${complete} (${what})`);
  if (te && te.vocab_size !== CLIP_VOCAB_SIZE) {
    return result(
      false,
      withTextEncoder(`text encoder with a ${te.vocab_size.toLocaleString('en-US')}-token vocabulary`),
      `Its text encoder has a ${te.vocab_size.toLocaleString('en-US')}-token vocabulary, but the studio's CLIP tokenizer (SD1.5) produces ${CLIP_VOCAB_SIZE.toLocaleString('en-US')} different tokens, so prompts cannot be encoded for it. Use a checkpoint with the standard SD1.5 (CLIP ViT-L/14) text encoder.`,
      'text_encoder',
    );
  }
  if (te && te.max_position_embeddings < CLIP_POSITIONS) {
    return result(
      false,
      withTextEncoder(`text encoder with ${te.max_position_embeddings} positions`),
      `Its text encoder takes ${te.max_position_embeddings} tokens, but SD1.5 prompts are encoded ${CLIP_POSITIONS} at a time. Use a checkpoint with the standard SD1.5 text encoder.`,
      'text_encoder',
    );
  }
  if (te && unet && te.hidden_size !== unet.cross_attention_dim) {
    return result(
      false,
      withTextEncoder('text encoder does not fit its UNet'),
      `Its text encoder gives ${te.hidden_size}-wide features but its UNet expects ${unet.cross_attention_dim}; the parts come from different models. Use a consistent SD1.5 checkpoint.`,
      'text_encoder',
    );
  }
  return result(true, complete, null, null);
}
