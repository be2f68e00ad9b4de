import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectModel, summarizeDetected } from '../../../src/main/compiler/families/detect';
import { openModel } from '../../../src/main/compiler/io/open';
import { loadManifest, merge, rename, shapeTable } from '../names/manifest-table';

const REF = 'test/fixtures/reference';
const json = (p: string): Record<string, unknown> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> => Object.fromEntries(keys.map((k) => [k, o[k]]));

const UNET_SHAPE_FIELDS = ['in_channels', 'out_channels', 'block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'mid_block_type', 'cross_attention_dim', 'use_linear_projection'];
const VAE_SHAPE_FIELDS = ['in_channels', 'out_channels', 'latent_channels', 'block_out_channels', 'layers_per_block'];
const CLIP_SHAPE_FIELDS = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'max_position_embeddings'];
const MOTION_SHAPE_FIELDS = ['block_out_channels', 'motion_layers_per_block', 'use_motion_mid_block', 'motion_max_seq_length'];

const u = loadManifest('sd15_unet');
const v = loadManifest('sd15_vae');
const t = loadManifest('clip_vit_l14_text');
const m = loadManifest('motion_adapter_v2_animatelcm');

describe('detectModel on full-size manifests (shapes only)', () => {
  it('SD1.5 UNet, both spellings: family unet, config equal to the real config', () => {
    for (const keys of [u.diffusers, u.ldm!]) {
      const d = detectModel(shapeTable(keys));
      expect(d.family).toBe('unet');
      expect(d.supported).toBe(true);
      expect(pick(d.configs.unet as unknown as Record<string, unknown>, UNET_SHAPE_FIELDS)).toEqual(pick(u.config, UNET_SHAPE_FIELDS));
      expect(d.configs.unet!.attention_head_dim).toBe(8);
      expect(d.configs.unet!.transformer_layers_per_block).toBe(1);
      expect(d.notes.join(' ')).toMatch(/heads/);
    }
  });

  it('a full SD1.5 single-file checkpoint is family sd15 with all three configs', () => {
    const d = detectModel(shapeTable(merge(u.ldm!, v.ldm!, t.ldm!)));
    expect(d.family).toBe('sd15');
    expect(d.supported).toBe(true);
    expect(pick(d.configs.vae as unknown as Record<string, unknown>, VAE_SHAPE_FIELDS)).toEqual(pick(v.config, VAE_SHAPE_FIELDS));
    expect(pick(d.configs.text_encoder as unknown as Record<string, unknown>, CLIP_SHAPE_FIELDS)).toEqual(pick(t.config, CLIP_SHAPE_FIELDS));
    expect(d.configs.text_encoder!.num_attention_heads).toBe(12);
  });

  it('VAE and CLIP alone', () => {
    expect(detectModel(shapeTable(v.ldm!)).family).toBe('vae');
    expect(detectModel(shapeTable(t.diffusers)).family).toBe('clip');
  });

  it('motion adapter v2 (AnimateLCM defaults), both spellings', () => {
    for (const keys of [m.diffusers, m.animatediff_original!]) {
      const d = detectModel(shapeTable(keys));
      expect(d.family).toBe('motion');
      expect(pick(d.configs.motion as unknown as Record<string, unknown>, MOTION_SHAPE_FIELDS)).toEqual(pick(m.config, MOTION_SHAPE_FIELDS));
      expect(d.configs.motion!.variant).toBe('v2');
      expect(d.configs.motion!.groupnorm_default).toBe('per_frame');
      expect(d.configs.motion!.motion_mid_block_layers_per_block).toBe(1);
    }
  });

  it('motion variants: AnimateLCM T2V (no PE), I2V (img_encoder), v1 (PE 24, no mid), v3 (PE 32, no mid)', () => {
    const noPe = rename(m.animatediff_original!, (k) => (k.includes('pos_encoder') ? undefined : k));
    const t2v = detectModel(shapeTable(noPe));
    expect(t2v.configs.motion!.variant).toBe('animatelcm-t2v');
    expect(t2v.configs.motion!.pe_length).toBe(0);
    const i2v = detectModel(shapeTable(merge(noPe, { 'img_encoder.conv_in.weight': { shape: [320, 3, 3, 3] } })));
    expect(i2v.configs.motion!.variant).toBe('animatelcm-i2v');
    expect(i2v.configs.motion!.has_img_encoder).toBe(true);
    const noMid = (f: (s: number[]) => number[]): Record<string, { shape: number[] }> => {
      const out: Record<string, { shape: number[] }> = {};
      for (const [k, x] of Object.entries(m.animatediff_original!)) if (!k.startsWith('mid_block.')) out[k] = { shape: k.endsWith('pos_encoder.pe') ? f(x.shape) : x.shape };
      return out;
    };
    const v1 = detectModel(shapeTable(noMid((s) => [1, 24, s[2]])));
    expect(v1.configs.motion!.variant).toBe('v1');
    expect(v1.configs.motion!.motion_max_seq_length).toBe(24);
    expect(v1.configs.motion!.use_motion_mid_block).toBe(false);
    expect(detectModel(shapeTable(noMid((s) => s))).configs.motion!.variant).toBe('v3');
  });

  it('SDXL, SD2 and inpainting are recognised from shapes and refused with an SD1.5 message', () => {
    const widen = (w: number) => (k: string, s: number[]): number[] => (/attn2\.to_[kv]\.weight$/.test(k) ? [s[0], w] : s);
    const reshape = (keys: Record<string, { shape: number[] }>, f: (k: string, s: number[]) => number[]): Record<string, { shape: number[] }> =>
      Object.fromEntries(Object.entries(keys).map(([k, x]) => [k, { shape: f(k, x.shape) }]));
    const sdxl = detectModel(shapeTable(reshape(u.ldm!, widen(2048))));
    expect(sdxl).toMatchObject({ family: 'sdxl', supported: false });
    expect(sdxl.message).toMatch(/SDXL.*SD1\.5|SD1\.5.*SDXL/s);
    const sdxlMarked = detectModel(shapeTable(merge(u.ldm!, { 'model.diffusion_model.label_emb.0.0.weight': { shape: [1280, 2816] } })));
    expect(sdxlMarked.family).toBe('sdxl');
    const sd2 = detectModel(shapeTable(reshape(u.ldm!, widen(1024))));
    expect(sd2).toMatchObject({ family: 'sd2', supported: false });
    expect(sd2.message).toMatch(/Stable Diffusion 1\.5/);
    const inpaint = detectModel(shapeTable(reshape(merge(u.ldm!, v.ldm!, t.ldm!), (k, s) => (k === 'model.diffusion_model.input_blocks.0.0.weight' ? [s[0], 9, s[2], s[3]] : s))));
    expect(inpaint).toMatchObject({ family: 'sd15_inpaint', supported: false });
    expect(inpaint.configs.unet!.in_channels).toBe(9);
  });

  it('unknown tensors are family unknown, not a guess', () => {
    expect(detectModel(shapeTable({ 'foo.weight': { shape: [3, 3] } }))).toMatchObject({ family: 'unknown', supported: false });
  });
});

describe('detectModel on the tiny reference models (configs read from shapes match their config.json)', () => {
  it.each([
    ['unet2d/weights.safetensors', 'unet2d/config.json', 'unet', UNET_SHAPE_FIELDS],
    ['unet2d/weights_ldm.safetensors', 'unet2d/config.json', 'unet', UNET_SHAPE_FIELDS],
    ['vae/weights_ldm.safetensors', 'vae/config.json', 'vae', VAE_SHAPE_FIELDS],
    ['clip_text/weights_ldm.safetensors', 'clip_text/config.json', 'text_encoder', CLIP_SHAPE_FIELDS],
    ['unet_motion/motion_module_animatediff.safetensors', 'unet_motion/motion_adapter_config.json', 'motion', MOTION_SHAPE_FIELDS],
  ] as const)('%s', (file, config, comp, fields) => {
    const d = detectModel(openModel(`${REF}/${file}`));
    expect(d.supported).toBe(true);
    expect(pick((d.configs as Record<string, unknown>)[comp] as Record<string, unknown>, [...fields])).toEqual(pick(json(`${REF}/${config}`), [...fields]));
  });
});

describe('LoRA recognition', () => {
  it.each([
    ['lora/lora_kohya.safetensors', ['kohya']],
    ['lora/lora_diffusers.safetensors', ['diffusers_peft']],
    ['lora_diffusers_old/lora_attn_procs.safetensors', ['diffusers_attn_procs']],
    ['lora_loha/lora_loha.safetensors', ['lycoris_loha']],
    ['lora_lokr/lora_lokr.safetensors', ['lycoris_lokr']],
  ])('%s → %s', (file, formats) => {
    const d = detectModel(openModel(`${REF}/${file}`));
    expect(d.family).toBe('lora');
    expect(d.lora!.formats).toEqual(formats);
  });

  it('base model from shapes and prefixes: 768 → sd15, 1024 → sd2, lora_te1/te2 or 2048 → sdxl (refused)', () => {
    const k = (ctx: number, te = 'lora_te'): Record<string, { shape: number[] }> => ({
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight': { shape: [8, ctx] },
      'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight': { shape: [320, 8] },
      [`${te}_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight`]: { shape: [8, ctx === 2048 ? 768 : ctx] },
    });
    expect(detectModel(shapeTable(k(768))).lora!.base).toBe('sd15');
    const sd2 = detectModel(shapeTable(k(1024)));
    expect(sd2.lora!.base).toBe('sd2');
    expect(sd2.supported).toBe(false);
    const xl = detectModel(shapeTable(k(2048, 'lora_te1')));
    expect(xl.lora!.base).toBe('sdxl');
    expect(xl.supported).toBe(false);
    expect(xl.message).toMatch(/SDXL/);
    // metadata settles what tiny shapes cannot
    expect(detectModel(shapeTable(k(32), { ss_base_model_version: 'sd_v1' })).lora!.base).toBe('sd15');
  });
});

describe('LoRA spellings without fixtures', () => {
  it('diffusers .lora.down/.lora.up layers and LDM-named kohya keys', () => {
    const d = detectModel(shapeTable({
      'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight': { shape: [4, 768] },
      'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora.up.weight': { shape: [320, 4] },
    }));
    expect(d.lora).toMatchObject({ base: 'sd15', formats: ['diffusers_lora_layers'] });
    const ldm = detectModel(shapeTable({
      'lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight': { shape: [16, 768] },
      'lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_up.weight': { shape: [320, 16] },
      'lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.alpha': { shape: [] },
    }));
    expect(ldm.lora).toMatchObject({ base: 'sd15', formats: ['kohya'] });
  });

  it('AnimateDiff motion LoRA is an SD1.5 LoRA on the motion modules', () => {
    const d = detectModel(shapeTable({
      'down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.0.processor.to_q_lora.down.weight': { shape: [128, 320] },
      'down_blocks.0.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.0.processor.to_q_lora.up.weight': { shape: [320, 128] },
    }));
    expect(d.lora).toMatchObject({ base: 'sd15', motion: true, formats: ['diffusers_attn_procs'] });
  });
});

describe('summarizeDetected', () => {
  it('names channels, heads, motion length, mid block and GroupNorm mode in one line', () => {
    const s = summarizeDetected(detectModel(shapeTable(merge(u.diffusers, m.diffusers))));
    expect(s).toBe('unet: UNet + motion module; unet ch 320/640/1280/1280 ×2 in 4 ctx 768 heads 8; motion v2 ch 320/640/1280/1280 ×2 heads 8 seq 32 mid yes groupnorm per_frame');
  });
});
