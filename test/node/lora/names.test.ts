import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { buildLoraKeyMap } from '../../../src/main/engine/lora/keymap';
import { diffusersToLdmUNet, unetLayoutFromNames } from '../../../src/main/engine/lora/ldm-names';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { maxAbsDiff, openBase, REF, rewriteLora, tmpDir, removeTmpDirs } from './fixtures';

/** Model-first key matching: LDM block spellings, at SD1.5 size and at the fixtures' 1-layer-per-block size. */
const base = openBase();
afterAll(() => {
  base.close();
  removeTmpDirs();
});

describe('diffusers → LDM UNet names at full SD1.5 size', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '../../fixtures/manifests/sd15_unet.json'), 'utf8')) as {
    diffusers: Record<string, { shape: number[] }>;
    diffusers_to_ldm: Record<string, string>;
  };
  const names = Object.keys(manifest.diffusers);
  const layout = unetLayoutFromNames(names);

  it('reads layers_per_block 2 and the attention up blocks off the names', () => {
    expect(layout.layersPerBlock).toBe(2);
    expect([...layout.upBlocksWithAttention].sort()).toEqual([1, 2, 3]);
  });

  it('agrees with the manifest mapping for every weight', () => {
    let checked = 0;
    for (const n of names) {
      if (!n.endsWith('.weight')) continue;
      const ldm = diffusersToLdmUNet(n.slice(0, -'.weight'.length), layout);
      expect(`model.diffusion_model.${ldm}.weight`, n).toBe(manifest.diffusers_to_ldm[n]);
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('registers both kohya spellings in the key map', () => {
    const w = new MemoryWeights();
    for (const [n, v] of Object.entries(manifest.diffusers)) w.set(n, v.shape, () => new Float32Array(0));
    const map = buildLoraKeyMap({ unet: w });
    expect(map.get('lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q')?.module).toBe('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q');
    expect(map.get('lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q')?.module).toBe('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q');
    expect(map.get('lora_unet_output_blocks_3_1_proj_in')?.module).toBe('up_blocks.1.attentions.0.proj_in');
    expect(map.get('lora_unet_middle_block_1_transformer_blocks_0_ff_net_2')?.module).toBe('mid_block.attentions.0.transformer_blocks.0.ff.net.2');
    expect(map.get('lora_unet_input_blocks_4_0_in_layers_2')?.module).toBe('down_blocks.1.resnets.0.conv1');
    expect(map.get('lora_unet_output_blocks_2_1_conv')?.module).toBe('up_blocks.0.upsamplers.0.conv');
    expect(map.get('lora_unet_output_blocks_5_2_conv')?.module).toBe('up_blocks.1.upsamplers.0.conv');
  });
});

describe('a kohya LoRA written with LDM block names (1 layer per block, as the fixtures)', () => {
  // Written out by hand for layers_per_block = 1: input_blocks 1 = down0 layer0, 2 = down0 downsampler,
  // 3 = down1 layer0; output_blocks 0,1 = up0 layers, upsampler at 1.1 (no attention); 2,3 = up1 layers.
  const BLOCKS: Array<[RegExp, string]> = [
    [/^lora_unet_down_blocks_0_attentions_0_/, 'lora_unet_input_blocks_1_1_'],
    [/^lora_unet_down_blocks_0_resnets_0_/, 'lora_unet_input_blocks_1_0_'],
    [/^lora_unet_down_blocks_0_downsamplers_0_conv/, 'lora_unet_input_blocks_2_0_op'],
    [/^lora_unet_down_blocks_1_resnets_0_/, 'lora_unet_input_blocks_3_0_'],
    [/^lora_unet_mid_block_resnets_0_/, 'lora_unet_middle_block_0_'],
    [/^lora_unet_mid_block_attentions_0_/, 'lora_unet_middle_block_1_'],
    [/^lora_unet_mid_block_resnets_1_/, 'lora_unet_middle_block_2_'],
    [/^lora_unet_up_blocks_0_resnets_0_/, 'lora_unet_output_blocks_0_0_'],
    [/^lora_unet_up_blocks_0_resnets_1_/, 'lora_unet_output_blocks_1_0_'],
    [/^lora_unet_up_blocks_0_upsamplers_0_conv/, 'lora_unet_output_blocks_1_1_conv'],
    [/^lora_unet_up_blocks_1_resnets_0_/, 'lora_unet_output_blocks_2_0_'],
    [/^lora_unet_up_blocks_1_attentions_0_/, 'lora_unet_output_blocks_2_1_'],
    [/^lora_unet_up_blocks_1_resnets_1_/, 'lora_unet_output_blocks_3_0_'],
    [/^lora_unet_up_blocks_1_attentions_1_/, 'lora_unet_output_blocks_3_1_'],
  ];
  const RESNET: Array<[RegExp, string]> = [
    [/_conv1\./, '_in_layers_2.'],
    [/_conv2\./, '_out_layers_3.'],
    [/_time_emb_proj\./, '_emb_layers_1.'],
    [/_conv_shortcut\./, '_skip_connection.'],
  ];
  function toLdm(k: string): string {
    if (!k.startsWith('lora_unet_')) return k;
    for (const [re, to] of BLOCKS) {
      if (re.test(k)) {
        let out = k.replace(re, to);
        if (/_(input|output)_blocks_\d+_0_|_middle_block_[02]_/.test(out)) for (const [r2, t2] of RESNET) out = out.replace(r2, t2);
        return out;
      }
    }
    throw new Error(`no LDM spelling written for ${k}`);
  }

  it('applies every key and merges exactly like the diffusers-named file', () => {
    const dir = tmpDir();
    const src = join(REF, 'lora/lora_kohya.safetensors');
    const dst = join(dir, 'ldm.safetensors');
    rewriteLora(src, dst, toLdm);
    expect(openSafetensors(dst).names().some((n) => n.startsWith('lora_unet_output_blocks_1_1_conv'))).toBe(true);
    const a = applyLoraStack(base, [{ file: src, weight: 0.8 }]);
    const b = applyLoraStack(base, [{ file: dst, weight: 0.8 }]);
    expect(b.reports[0].unmatched).toEqual([]);
    expect(b.reports[0].applied).toBe(327);
    expect(b.unet!.touched().sort()).toEqual(a.unet!.touched().sort());
    for (const n of a.unet!.touched()) expect(maxAbsDiff(b.unet!.get(n)!.readF32(), a.unet!.get(n)!.readF32())).toBe(0);
  });
});
