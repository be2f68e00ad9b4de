/**
 * A small LoRA made for the starter model (the fixture LoRAs target the tiny diffusers reference UNet, whose
 * shapes differ): kohya-format low-rank pairs on every attention projection of the starter UNet, with values from a
 * fixed generator so the file — and its hash — is the same on every run.
 */
import { unetParameterShapes } from '../../../src/main/compiler/families/parameter-shapes';
import { writeSafetensors, type TensorToWrite } from '../../../src/main/compiler/io/safetensors';
import { STARTER_UNET } from '../../../src/main/engine/starter/starter-model';

export const STARTER_LORA_TRIGGER = 'studiotestfox';

export function writeStarterLora(path: string, rank = 2, title = 'starter-test-style'): { modules: number } {
  let state = 0x1234_5678;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  const tensors: TensorToWrite[] = [];
  let modules = 0;
  for (const [name, shape] of unetParameterShapes(STARTER_UNET)) {
    if (!/\.attn[12]\.to_(q|k|v|out\.0)\.weight$/.test(name) || shape.length !== 2) continue;
    const [out, inp] = shape;
    const base = `lora_unet_${name.replace(/\.weight$/, '').replace(/\./g, '_')}`;
    const down = Float32Array.from({ length: rank * inp }, () => next() * 0.5);
    const up = Float32Array.from({ length: out * rank }, () => next() * 0.5);
    tensors.push({ name: `${base}.lora_down.weight`, dtype: 'F32', shape: [rank, inp], data: down });
    tensors.push({ name: `${base}.lora_up.weight`, dtype: 'F32', shape: [out, rank], data: up });
    tensors.push({ name: `${base}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(rank) });
    modules++;
  }
  writeSafetensors(path, tensors, {
    ss_network_module: 'networks.lora',
    ss_network_dim: String(rank),
    ss_network_alpha: String(rank),
    ss_output_name: title,
    ss_tag_frequency: JSON.stringify({ train: { [STARTER_LORA_TRIGGER]: 10, abstract: 4 } }),
  });
  return { modules };
}
