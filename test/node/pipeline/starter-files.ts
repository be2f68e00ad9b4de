import { join } from 'node:path';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { starterModel } from '../../../src/main/engine/starter/starter-model';

/**
 * The starter model written out as a creator's files: a single-file checkpoint (diffusers component prefixes,
 * configs in the safetensors metadata as diffusers-style exporters store them) and a separate motion module, so
 * the "real files" path (open → canonicalise → detect → LoRA → compile) runs without a download.
 */
export function writeStarterFiles(dir: string): { model: string; motion: string } {
  const s = starterModel();
  const tensors = (w: WeightSet, prefix: string) =>
    w.names().map((n) => {
      const v = w.get(n)!;
      return { name: `${prefix}${n}`, dtype: 'F32' as const, shape: v.shape, data: v.readF32() };
    });
  const model = join(dir, 'starter-checkpoint.safetensors');
  writeSafetensors(model, [...tensors(s.unet, 'unet.'), ...tensors(s.vae, 'vae.'), ...tensors(s.text_encoder, 'text_encoder.')], {
    'unet.config': JSON.stringify(s.configs.unet),
    'vae.config': JSON.stringify(s.configs.vae),
    'text_encoder.config': JSON.stringify(s.configs.text_encoder),
  });
  const motion = join(dir, 'starter-motion.safetensors');
  writeSafetensors(motion, tensors(s.motion, ''), { 'motion_adapter.config': JSON.stringify(s.configs.motion) });
  return { model, motion };
}
