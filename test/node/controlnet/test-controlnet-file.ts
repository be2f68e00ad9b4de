import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UNetConfig } from '../../../src/main/compiler/families/configs';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { rng } from '../unet/naive-unet';

/**
 * A ControlNet for a given UNet, as `ControlNetModel.from_unet` lays it out (the UNet encoder's weights under the
 * same names, a hint block 3→16→16→32(s2)→32→32(s2)→32→32(s2)→C0, one 1×1 zero conv per skip feature and one
 * for the mid block), with random values (zero convs non-zero, so the control shows), written in the diffusers
 * layout with its config.json beside it (a downloaded diffusers ControlNet folder). `extra` adds tensors (e.g. SDXL's
 * add_embedding, to make a file of another family).
 */
export function writeTestControlNet(dir: string, unet: WeightSet, cfg: UNetConfig, seed = 11, extra: Array<{ name: string; shape: number[] }> = []): string {
  mkdirSync(dir, { recursive: true });
  const r = rng(seed);
  const rand = (shape: number[], s = 0.2): Float32Array => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * s);
  const tensors: Array<{ name: string; shape: number[]; data: Float32Array }> = [];
  for (const n of unet.names()) {
    if (/^(conv_in|time_embedding|down_blocks|mid_block)\./.test(n)) {
      const v = unet.get(n)!;
      tensors.push({ name: n, shape: v.shape, data: v.readF32() });
    }
  }
  const hint = [16, 16, 32, 32];
  const c0 = cfg.block_out_channels[0];
  tensors.push({ name: 'controlnet_cond_embedding.conv_in.weight', shape: [16, 3, 3, 3], data: rand([16, 3, 3, 3]) });
  tensors.push({ name: 'controlnet_cond_embedding.conv_in.bias', shape: [16], data: rand([16]) });
  for (let i = 0; i < hint.length - 1; i++) {
    const [a, b] = [hint[i], hint[i + 1]];
    tensors.push({ name: `controlnet_cond_embedding.blocks.${2 * i}.weight`, shape: [a, a, 3, 3], data: rand([a, a, 3, 3]) });
    tensors.push({ name: `controlnet_cond_embedding.blocks.${2 * i}.bias`, shape: [a], data: rand([a]) });
    tensors.push({ name: `controlnet_cond_embedding.blocks.${2 * i + 1}.weight`, shape: [b, a, 3, 3], data: rand([b, a, 3, 3]) });
    tensors.push({ name: `controlnet_cond_embedding.blocks.${2 * i + 1}.bias`, shape: [b], data: rand([b]) });
  }
  tensors.push({ name: 'controlnet_cond_embedding.conv_out.weight', shape: [c0, 32, 3, 3], data: rand([c0, 32, 3, 3]) });
  tensors.push({ name: 'controlnet_cond_embedding.conv_out.bias', shape: [c0], data: rand([c0]) });
  const skips = [c0];
  cfg.block_out_channels.forEach((c, i) => {
    for (let j = 0; j < cfg.layers_per_block; j++) skips.push(c);
    if (i < cfg.block_out_channels.length - 1) skips.push(c);
  });
  skips.forEach((c, i) => {
    tensors.push({ name: `controlnet_down_blocks.${i}.weight`, shape: [c, c, 1, 1], data: rand([c, c, 1, 1], 0.5) });
    tensors.push({ name: `controlnet_down_blocks.${i}.bias`, shape: [c], data: rand([c], 0.5) });
  });
  const cm = cfg.block_out_channels[cfg.block_out_channels.length - 1];
  tensors.push({ name: 'controlnet_mid_block.weight', shape: [cm, cm, 1, 1], data: rand([cm, cm, 1, 1], 0.5) });
  tensors.push({ name: 'controlnet_mid_block.bias', shape: [cm], data: rand([cm], 0.5) });
  for (const t of extra) tensors.push({ ...t, data: rand(t.shape) });
  const diffusers = join(dir, 'diffusion_pytorch_model.safetensors');
  writeSafetensors(diffusers, tensors.map((t) => ({ ...t, dtype: 'F32' as const })));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ _class_name: 'ControlNetModel', ...cfg, conditioning_embedding_out_channels: hint }));
  return diffusers;
}
