import { basename } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { fileIdentity } from '../../compiler/cache';
import type { ClipTextConfig, MotionConfig, UNetConfig, VaeConfig } from '../../compiler/families/configs';
import { detectModel } from '../../compiler/families/detect';
import { checkpointUsability, type UsabilityProblem } from '../../compiler/families/usability';
import { openModel } from '../../compiler/io/open';
import type { TensorTable, WeightSet } from '../../compiler/io/tensor';
import { canonicalize } from '../../compiler/names/canonicalize';
import type { LoraReport } from '../lora/stack';
import { starterModel } from '../starter/starter-model';

/**
 * Where a generation's weights come from, resolved to canonical (diffusers-named) weight sets plus their configs
 * and an identity for the compile cache: the built-in starter model, or a creator's checkpoint + motion module.
 * The weights are the BASE model's: the LoRA stack (AnimateLCM's spatial LoRA first, then the creator's) is only
 * recorded here and applied at run time by ModelSet (`setLoras`), so changing it never re-opens the model.
 * Nothing is read here beyond headers.
 */
export interface ModelSource {
  /** Shown to the creator, e.g. "Starter test model (random weights — abstract output)". */
  label: string;
  isStarter: boolean;
  configs: { unet: UNetConfig; motion: MotionConfig; vae: VaeConfig; text_encoder: ClipTextConfig };
  /** `img_encoder`: AnimateLCM-I2V's image encoder, present when the motion file carries one (image-to-video). */
  weights: { unet: WeightSet; motion: WeightSet; vae: WeightSet; text_encoder: WeightSet; img_encoder?: WeightSet };
  /**
   * What determines each component's compiled base weights (file identities). Equal identities ⇒ the cache
   * entry and the open sessions are reused. The LoRA stack is not part of it.
   */
  identity: { unet: unknown; vae: unknown; text_encoder: unknown; img_encoder?: unknown };
  /** The LoRA stack to start with (ModelSet applies it; `ModelSet.setLoras` changes it later). */
  loras?: LoraSpec[];
  /** Unused since run-time switching (ModelSet.loraReports holds the current stack's coverage). */
  loraReports?: LoraReport[];
  close(): void;
}

export interface LoraSpec {
  path: string;
  weight: number;
  /**
   * kohya-format modules get this scale instead of alpha/rank. AnimateLCM loads its spatial LoRAs with
   * `convert_lcm_lora`, which hard-codes 1/8 (AnimateLCM_sd15_i2v_lora.safetensors is loaded that way).
   */
  fixedScale?: number;
}

/** AnimateLCM's `convert_lcm_lora` scale (animatelcm/utils/lcm_utils.py): W += (1/8)·multiplier·up@down. */
export const ANIMATELCM_LORA_SCALE = 1 / 8;

export interface ModelFiles {
  /** SD1.5 checkpoint (single file or diffusers folder); undefined = the starter model. */
  model?: string;
  /** Motion module; undefined = the starter model's (only valid with the starter model). */
  motion?: string;
  /** LoRAs in application order (AnimateLCM's LoRA first). */
  loras?: LoraSpec[];
}

const PROBLEM_CODE: Record<UsabilityProblem, 'MODEL_FAMILY_UNSUPPORTED' | 'MODEL_KEYS_MISSING' | 'MODEL_SHAPE_MISMATCH'> = {
  family: 'MODEL_FAMILY_UNSUPPORTED',
  parts: 'MODEL_KEYS_MISSING',
  text_encoder: 'MODEL_SHAPE_MISMATCH',
};

/** The starter model, optionally with LoRAs (they must target its tiny shapes, so in practice none). */
export function starterSource(loras: LoraSpec[] = []): ModelSource {
  const s = starterModel();
  return {
    label: s.label,
    isStarter: true,
    configs: s.configs,
    weights: { unet: s.unet, motion: s.motion, vae: s.vae, text_encoder: s.text_encoder, img_encoder: s.img_encoder },
    identity: { unet: { model: s.id }, vae: { model: s.id }, text_encoder: { model: s.id }, img_encoder: { model: s.id } },
    loras,
    close: () => undefined,
  };
}

/** A creator's files. Throws a StudioError a creator can act on when a file is not what AnimateLCM needs. */
export function fileSource(files: ModelFiles): ModelSource {
  if (!files.model) {
    if (files.motion) throw new StudioError('INVALID_PARAMS', 'A motion module was given without a checkpoint (--model); the starter model has its own motion module.');
    return starterSource(files.loras);
  }
  const opened: TensorTable[] = [];
  try {
    const ckpt = openModel(files.model);
    opened.push(ckpt);
    const cc = canonicalize(ckpt);
    const det = detectModel(ckpt, cc);
    // The same judgement the library made at import, so nothing the library calls usable fails here, and nothing
    // unusable (a UNet alone, a foreign text encoder) gets as far as onnxruntime.
    const usability = checkpointUsability(det);
    if (!usability.usable) {
      throw new StudioError(PROBLEM_CODE[usability.problem ?? 'family'], `${basename(files.model)} (${usability.label}): ${usability.message}`, {
        path: files.model,
        parts: usability.parts,
      });
    }
    const { unet, vae, text_encoder } = cc.components;
    const cfg = det.configs;
    if (!unet || !cfg.unet || !vae || !cfg.vae || !text_encoder || !cfg.text_encoder) {
      throw new StudioError('MODEL_KEYS_MISSING', `${basename(files.model)} (${det.label}) lacks a UNet, VAE or text encoder. AnimateLCM needs a full SD1.5 checkpoint.`);
    }
    let motion = cc.components.motion;
    let imgEncoder = cc.components.img_encoder;
    let motionCfg: MotionConfig | undefined = cfg.motion;
    if (files.motion) {
      const mt = openModel(files.motion);
      opened.push(mt);
      const mc = canonicalize(mt);
      const md = detectModel(mt, mc);
      motion = mc.components.motion;
      imgEncoder = mc.components.img_encoder;
      motionCfg = md.configs.motion;
      if (!motion || !motionCfg) throw new StudioError('MODEL_KEYS_MISSING', `${basename(files.motion)} is a ${md.label}, not a motion module.`);
    }
    if (!motion || !motionCfg) {
      throw new StudioError('INVALID_PARAMS', `${basename(files.model)} has no motion module; pass one with --motion (e.g. AnimateLCM's sd15_t2v_beta).`);
    }
    const modelId = fileIdentity(files.model);
    const motionId = files.motion ? fileIdentity(files.motion) : modelId;
    return {
      label: `${basename(files.model)}${files.motion ? ` + ${basename(files.motion)}` : ''}`,
      isStarter: false,
      configs: { unet: cfg.unet, motion: motionCfg, vae: cfg.vae, text_encoder: cfg.text_encoder },
      weights: { unet, motion, vae, text_encoder, ...(imgEncoder ? { img_encoder: imgEncoder } : {}) },
      identity: { unet: { model: modelId, motion: motionId }, vae: { model: modelId }, text_encoder: { model: modelId }, ...(imgEncoder ? { img_encoder: { motion: motionId } } : {}) },
      loras: files.loras ?? [],
      close: () => opened.forEach((t) => t.close()),
    };
  } catch (e) {
    opened.forEach((t) => t.close());
    throw e;
  }
}
