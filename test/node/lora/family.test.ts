import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { isStudioError } from '../../../src/shared/errors';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { openBase, rand, REF, rewriteLora, tmpDir, removeTmpDirs } from './fixtures';

/** LoRAs for other families are refused with a message naming the family; unknown keys are reported. */
const base = openBase();
afterAll(() => {
  base.close();
  removeTmpDirs();
});

function write(name: string, tensors: Array<{ name: string; shape: number[] }>, metadata?: Record<string, string>): string {
  const path = join(tmpDir(), name);
  writeSafetensors(
    path,
    tensors.map((t, i) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: rand(t.shape.reduce((a, b) => a * b, 1), i + 1) })),
    metadata,
  );
  return path;
}

function refusal(path: string): { code: string; message: string; family: unknown } {
  try {
    applyLoraStack(base, [{ file: path, weight: 1 }]);
  } catch (e) {
    if (!isStudioError(e)) throw e;
    return { code: e.code, message: e.message, family: e.details?.family };
  }
  throw new Error('not refused');
}

const XATTN = 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k';

describe('family refusal', () => {
  it('refuses an SDXL LoRA by its lora_te1/lora_te2 keys', () => {
    const p = write('sdxl_te.safetensors', [
      { name: 'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight', shape: [4, 768] },
      { name: 'lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight', shape: [768, 4] },
      { name: 'lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight', shape: [4, 1280] },
      { name: 'lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight', shape: [1280, 4] },
    ]);
    const r = refusal(p);
    expect(r.code).toBe('LORA_INCOMPATIBLE');
    expect(r.family).toBe('sdxl');
    expect(r.message).toMatch(/sdxl_te\.safetensors is a LoRA for SDXL/);
    expect(r.message).toMatch(/Stable Diffusion 1\.5/);
  });

  it('refuses an SDXL UNet-only LoRA by its 2048-wide cross-attention', () => {
    const p = write('sdxl_unet.safetensors', [
      { name: `${XATTN}.lora_down.weight`, shape: [4, 2048] },
      { name: `${XATTN}.lora_up.weight`, shape: [32, 4] },
    ]);
    expect(refusal(p)).toMatchObject({ code: 'LORA_INCOMPATIBLE', family: 'sdxl' });
  });

  it('refuses an SD2 LoRA by its 1024-wide cross-attention (PEFT spelling too)', () => {
    const p = write('sd2.safetensors', [
      { name: 'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v.lora_A.weight', shape: [4, 1024] },
      { name: 'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v.lora_B.weight', shape: [32, 4] },
    ]);
    const r = refusal(p);
    expect(r).toMatchObject({ code: 'LORA_INCOMPATIBLE', family: 'sd2' });
    expect(r.message).toMatch(/Stable Diffusion 2\.x/);
  });

  it('refuses an SDXL LoRA recognised only by its multi-layer transformer blocks (LDM names)', () => {
    const m = 'lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q';
    const p = write('sdxl_ldm.safetensors', [
      { name: `${m}.lora_down.weight`, shape: [4, 640] },
      { name: `${m}.lora_up.weight`, shape: [640, 4] },
    ]);
    expect(refusal(p)).toMatchObject({ code: 'LORA_INCOMPATIBLE', family: 'sdxl' });
  });

  it('refuses by kohya metadata even when the shapes would fit', () => {
    const p = write('meta.safetensors', [
      { name: `${XATTN}.lora_down.weight`, shape: [4, 32] },
      { name: `${XATTN}.lora_up.weight`, shape: [32, 4] },
    ], { ss_base_model_version: 'sdxl_base_v1-0' });
    expect(refusal(p)).toMatchObject({ code: 'LORA_INCOMPATIBLE', family: 'sdxl' });
  });

  it('accepts the SD1 reference LoRAs (their cross-attention width is the model\'s)', () => {
    const a = applyLoraStack(base, [{ file: join(REF, 'lora/lora_kohya.safetensors'), weight: 1 }]);
    expect(a.reports[0].unmatched).toEqual([]);
  });
});

describe('unmatched keys', () => {
  it('are listed with the reason, and the rest is applied', () => {
    const dir = tmpDir();
    const dst = join(dir, 'partly.safetensors');
    const bogus = 'lora_unet_down_blocks_7_attentions_0_transformer_blocks_0_attn1_to_q';
    const wrongShape = 'lora_te_text_model_encoder_layers_0_self_attn_q_proj';
    rewriteLora(join(REF, 'lora/lora_kohya.safetensors'), dst, (k) => (k.startsWith(`${wrongShape}.`) ? undefined : k), {
      extra: [
        { name: `${bogus}.lora_down.weight`, shape: [4, 32], data: rand(128, 3) },
        { name: `${bogus}.lora_up.weight`, shape: [32, 4], data: rand(128, 4) },
        { name: `${wrongShape}.lora_down.weight`, shape: [4, 40], data: rand(160, 5) },
        { name: `${wrongShape}.lora_up.weight`, shape: [32, 4], data: rand(128, 6) },
        { name: 'something_else.weird', shape: [2], data: rand(2, 7) },
      ],
    });
    const a = applyLoraStack(base, [{ file: dst, weight: 1 }]);
    const r = a.reports[0];
    expect(r.total).toBe(327 - 3 + 5);
    expect(r.applied).toBe(327 - 3);
    expect(r.unmatched.sort()).toEqual(
      [`${bogus}.lora_down.weight`, `${bogus}.lora_up.weight`, `${wrongShape}.lora_down.weight`, `${wrongShape}.lora_up.weight`, 'something_else.weird'].sort(),
    );
    expect(r.message).toMatch(/^applied 324\/329 keys; not applied \(5 keys\): /);
    expect(r.message).toContain(`${bogus}: no such module in this model`);
    expect(r.message).toContain(wrongShape);
    expect(r.message).toContain('something_else.weird');
    // the mismatched module did not touch the text encoder's q_proj
    expect(a.text_encoder!.touched()).not.toContain('text_model.encoder.layers.0.self_attn.q_proj.weight');
    expect(a.text_encoder!.touched().length).toBe(29);
  });
});
