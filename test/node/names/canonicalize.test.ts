import { describe, expect, it } from 'vitest';
import { openModel } from '../../../src/main/compiler/io/open';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { canonicalize, type Canonical } from '../../../src/main/compiler/names/canonicalize';
import { loadManifest, merge, rename, shapeTable } from './manifest-table';

const REF = 'test/fixtures/reference';
type Comp = keyof Canonical['components'];

/** Regenerated buffers are not canonical weights (position ids, sinusoidal tables). */
const isBuffer = (k: string): boolean => /position_ids$|pos_embed\.pe$/.test(k);

function only(c: Canonical, comp: Comp): WeightSet {
  expect(Object.keys(c.components)).toEqual([comp]);
  return c.components[comp]!;
}

describe('canonicalize: full-size manifests, both spellings', () => {
  const cases: Array<{ manifest: string; comp: Comp; other: 'ldm' | 'animatediff_original'; layout: string }> = [
    { manifest: 'sd15_unet', comp: 'unet', other: 'ldm', layout: 'ldm' },
    { manifest: 'sd15_vae', comp: 'vae', other: 'ldm', layout: 'ldm' },
    { manifest: 'clip_vit_l14_text', comp: 'text_encoder', other: 'ldm', layout: 'ldm' },
    { manifest: 'motion_adapter_v2_animatelcm', comp: 'motion', other: 'animatediff_original', layout: 'animatediff' },
  ];
  for (const { manifest, comp, other, layout } of cases) {
    const m = loadManifest(manifest);
    const expected = Object.keys(m.diffusers).filter((k) => !isBuffer(k)).sort();
    for (const spelling of ['diffusers', other] as const) {
      it(`${manifest} (${spelling}): zero unmatched, zero missing, same shapes`, () => {
        const c = canonicalize(shapeTable(m[spelling]!));
        expect(c.unmatched).toEqual([]);
        const w = only(c, comp);
        expect(w.names().sort()).toEqual(expected);
        for (const n of expected) expect(w.get(n)!.shape, n).toEqual(m.diffusers[n].shape);
        expect(c.layout).toBe(spelling === 'diffusers' ? 'diffusers' : layout);
        // Every dropped key is a recognised buffer, never a weight.
        for (const d of c.dropped) expect(d).toMatch(/position_ids$|pos_encoder\.pe$|pos_embed\.pe$/);
      });
    }
  }

  it('a full SD1.5 single file (UNet + VAE + CLIP, with EMA and scheduler buffers) splits into three components', () => {
    const u = loadManifest('sd15_unet');
    const v = loadManifest('sd15_vae');
    const t = loadManifest('clip_vit_l14_text');
    const ema = rename(u.ldm!, (k) => (k.endsWith('.bias') && k.includes('input_blocks.1.') ? `model_ema.${k.replace('model.diffusion_model.', 'diffusion_model').replaceAll('.', '')}` : undefined));
    const buffers = { betas: { shape: [1000] }, alphas_cumprod: { shape: [1000] }, 'model_ema.num_updates': { shape: [] } };
    const c = canonicalize(shapeTable(merge(u.ldm!, v.ldm!, t.ldm!, ema, buffers)));
    expect(c.unmatched).toEqual([]);
    expect(c.components.unet!.names().length).toBe(686);
    expect(c.components.vae!.names().length).toBe(248);
    expect(c.components.text_encoder!.names().length).toBe(196);
    expect(c.dropped.length).toBe(Object.keys(ema).length + 3 + 1);
  });

  it('adds the missing text_model. level of older checkpoints', () => {
    const t = loadManifest('clip_vit_l14_text');
    const old = rename(t.ldm!, (k) => k.replace('cond_stage_model.transformer.text_model.', 'cond_stage_model.transformer.'));
    const c = canonicalize(shapeTable(old));
    expect(c.unmatched).toEqual([]);
    expect(c.components.text_encoder!.names().sort()).toEqual(Object.keys(t.diffusers).filter((k) => !isBuffer(k)).sort());
    expect(c.dropped).toEqual(['cond_stage_model.transformer.embeddings.position_ids']);
  });

  it('SDXL-style CLIP prefix conditioner.embedders.0.transformer. maps to the text encoder', () => {
    const t = loadManifest('clip_vit_l14_text');
    const c = canonicalize(shapeTable(rename(t.diffusers, (k) => `conditioner.embedders.0.transformer.${k}`)));
    expect(c.unmatched).toEqual([]);
    expect(c.components.text_encoder!.names().length).toBe(196);
  });

  it('AnimateLCM spelling pos_encoder.pos_encoding is dropped like pe', () => {
    const m = loadManifest('motion_adapter_v2_animatelcm');
    const c = canonicalize(shapeTable(rename(m.animatediff_original!, (k) => k.replace('pos_encoder.pe', 'pos_encoder.pos_encoding'))));
    expect(c.unmatched).toEqual([]);
    expect(c.dropped.every((k) => k.endsWith('pos_encoder.pos_encoding'))).toBe(true);
    expect(c.dropped.length).toBe(42);
  });

  it('a UNetMotionModel state dict (UNet + motion modules under the same blocks) splits into unet and motion', () => {
    const u = loadManifest('sd15_unet');
    const m = loadManifest('motion_adapter_v2_animatelcm');
    const c = canonicalize(shapeTable(merge(u.diffusers, m.diffusers)));
    expect(c.unmatched).toEqual([]);
    expect(c.components.unet!.names().length).toBe(686);
    expect(c.components.motion!.names().length).toBe(546);
  });

  it('lists keys it cannot place instead of guessing', () => {
    const c = canonicalize(shapeTable({ 'model.diffusion_model.label_emb.0.0.weight': { shape: [1280, 2816] }, 'something.else': { shape: [1] }, 'lora_unet_x.lora_down.weight': { shape: [4, 8] } }));
    expect(c.unmatched.sort()).toEqual(['lora_unet_x.lora_down.weight', 'model.diffusion_model.label_emb.0.0.weight', 'something.else']);
    expect(c.components).toEqual({});
  });
});

describe('canonicalize: tiny reference models, original layouts are bit-identical to diffusers', () => {
  const pairs: Array<[string, string, Comp]> = [
    ['unet2d/weights.safetensors', 'unet2d/weights_ldm.safetensors', 'unet'],
    ['unet_motion/motion_adapter.safetensors', 'unet_motion/motion_module_animatediff.safetensors', 'motion'],
    ['unet_motion/motion_adapter.safetensors', '../ckpt/motion_module_animatediff.ckpt', 'motion'],
    ['vae/weights.safetensors', 'vae/weights_ldm.safetensors', 'vae'],
    ['clip_text/weights.safetensors', 'clip_text/weights_ldm.safetensors', 'text_encoder'],
  ];
  it.each(pairs)('%s == %s', (diffusersFile, otherFile, comp) => {
    const a = canonicalize(openModel(`${REF}/${diffusersFile}`));
    const b = canonicalize(openModel(`${REF}/${otherFile}`));
    expect(a.unmatched).toEqual([]);
    expect(b.unmatched).toEqual([]);
    const wa = only(a, comp);
    const wb = only(b, comp);
    expect(wb.names().sort()).toEqual(wa.names().sort());
    for (const n of wa.names()) {
      const x = wa.get(n)!;
      const y = wb.get(n)!;
      expect(y.shape, n).toEqual(x.shape);
      expect(Buffer.from(y.readRaw()).equals(Buffer.from(x.readRaw())), n).toBe(true);
    }
  });

  it('squeezes the VAE attention 1×1 convs to [C, C] and leaves other convs alone', () => {
    const b = canonicalize(openModel(`${REF}/vae/weights_ldm.safetensors`));
    const w = b.components.vae!;
    expect(w.get('decoder.mid_block.attentions.0.to_q.weight')!.shape).toEqual([64, 64]);
    expect(w.get('decoder.mid_block.attentions.0.to_q.weight')!.readF32().length).toBe(64 * 64);
    expect(w.get('quant_conv.weight')!.shape.length).toBe(4);
  });
});
