import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildControlNetGraph, controlResidualShapes } from '../../../src/main/compiler/families/controlnet';
import { detectModel } from '../../../src/main/compiler/families/detect';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { openModel } from '../../../src/main/compiler/io/open';
import { canonicalize } from '../../../src/main/compiler/names/canonicalize';
import { canonicalizeControlNet } from '../../../src/main/compiler/names/controlnet-names';
import { loadManifest, rename, shapeTable } from '../names/manifest-table';

/**
 * The files creators download: the full-size SD1.5 ControlNet key/shape manifests (original v1.1 single-file
 * layout with and without `control_model.`, diffusers layout, fp16), the tiny fixture files, and the ControlNets
 * the studio refuses (SDXL, SD2).
 */

type Keys = Record<string, { shape: number[]; dtype: string }>;
interface ControlNetManifest {
  diffusers_config: Record<string, unknown>;
  ldm?: Keys;
  ldm_to_diffusers?: Record<string, string>;
  diffusers?: Keys;
}
const read = (name: string): ControlNetManifest => JSON.parse(readFileSync(`test/fixtures/manifests/${name}.json`, 'utf8')) as ControlNetManifest;
const ldmManifest = read('controlnet_sd15_ldm');
const diffusersManifest = read('controlnet_sd15_diffusers');
const ldm = ldmManifest.ldm!;
const diffusers = diffusersManifest.diffusers!;

const shapesOf = (w: { names(): string[]; get(n: string): { shape: number[] } | undefined }): Record<string, number[]> =>
  Object.fromEntries(w.names().sort().map((n) => [n, w.get(n)!.shape]));
const diffusersShapes = Object.fromEntries(Object.keys(diffusers).sort().map((k) => [k, diffusers[k].shape]));

describe('ControlNet file layouts (full-size manifests)', () => {
  it('the original single file (control_model.*) maps onto exactly the diffusers names and shapes, key for key as the reference map says', () => {
    const c = canonicalizeControlNet(shapeTable(ldm));
    expect(c.layout).toBe('ldm');
    expect(shapesOf(c.weights)).toEqual(diffusersShapes);
    for (const [from, to] of Object.entries(ldmManifest.ldm_to_diffusers!)) expect(c.weights.get(to)?.shape, from).toEqual(ldm[from].shape);
  });

  it('the same file without the control_model. prefix, and an fp16 re-save, read the same', () => {
    const bare = rename(ldm, (k) => k.slice('control_model.'.length));
    expect(shapesOf(canonicalizeControlNet(shapeTable(bare)).weights)).toEqual(diffusersShapes);
    const fp16 = Object.fromEntries(Object.entries(ldm).map(([k, v]) => [k, { ...v, dtype: 'float16' }]));
    const c = canonicalizeControlNet(shapeTable(fp16));
    expect(shapesOf(c.weights)).toEqual(diffusersShapes);
    expect(c.weights.get('controlnet_mid_block.weight')!.dtype).toBe('F16');
  });

  it('the diffusers layout passes through; a v1.0-style file with a whole SD checkpoint keeps only control_model.*', () => {
    const c = canonicalizeControlNet(shapeTable(diffusers));
    expect(c.layout).toBe('diffusers');
    expect(shapesOf(c.weights)).toEqual(diffusersShapes);
    const u = loadManifest('sd15_unet');
    expect(Object.keys(u.ldm!).every((k) => k.startsWith('model.diffusion_model.'))).toBe(true);
    const withSd = { ...ldm, ...u.ldm! } as Keys;
    expect(shapesOf(canonicalizeControlNet(shapeTable(withSd)).weights)).toEqual(diffusersShapes);
  });

  it('detect: an SD1.5 ControlNet in every layout, with its config read from shapes', () => {
    for (const keys of [ldm, diffusers, rename(ldm, (k) => k.slice('control_model.'.length))]) {
      const d = detectModel(shapeTable(keys));
      expect(d.family).toBe('controlnet');
      expect(d.supported).toBe(true);
      const cn = d.configs.controlnet!;
      const real = ldmManifest.diffusers_config;
      expect(cn.block_out_channels).toEqual(real.block_out_channels);
      expect(cn.layers_per_block).toBe(real.layers_per_block);
      expect(cn.down_block_types).toEqual(real.down_block_types);
      expect(cn.cross_attention_dim).toBe(768);
      expect(cn.conditioning_channels).toBe(3);
      expect(cn.hint_downscale).toBe(8);
      expect(d.configs.unet).toBeUndefined();
    }
  });

  it('SDXL and SD2 ControlNets are refused with a sentence', () => {
    const widen = (width: number): Keys =>
      Object.fromEntries(Object.entries(diffusers).map(([k, v]) => [k, /attn2\.to_[kv]\.weight$/.test(k) ? { ...v, shape: [v.shape[0], width] } : v]));
    const sdxl = detectModel(shapeTable({ ...widen(2048), 'add_embedding.linear_1.weight': { shape: [1280, 2816], dtype: 'float32' } }));
    expect(sdxl.family).toBe('sdxl');
    expect(sdxl.supported).toBe(false);
    expect(sdxl.message).toMatch(/SDXL ControlNet.*SD1\.5 ControlNets/);
    const sd2 = detectModel(shapeTable(widen(1024)));
    expect(sd2.family).toBe('sd2');
    expect(sd2.supported).toBe(false);
    expect(sd2.message).toMatch(/2\.x ControlNet/);
  });

  it('a full-size ControlNet graph builds from the real shapes (every weight used) and its residuals are the UNet residual inputs', () => {
    const cfg = parseUNetConfig(ldmManifest.diffusers_config);
    const w = canonicalizeControlNet(shapeTable(ldm)).weights;
    const cn = buildControlNetGraph(w, cfg, { batch: 2, latentHeight: 64, latentWidth: 48 });
    const u = loadManifest('sd15_unet');
    const unet = buildUNetGraph(canonicalize(shapeTable(u.diffusers)).components.unet!, parseUNetConfig(u.config), { batch: 2, latentHeight: 64, latentWidth: 48, controlResiduals: true });
    const outs = Object.fromEntries(cn.outputs.map((o) => [o.name, o.shape]));
    const resIn = unet.inputs.filter((i) => i.name.endsWith('_residual') || i.name.startsWith('down_residual_'));
    expect(resIn.map((i) => i.name).sort()).toEqual(Object.keys(outs).sort());
    expect(resIn.length).toBe(13);
    for (const i of resIn) expect(outs[i.name], i.name).toEqual(i.shape);
    expect(cn.inputs.find((i) => i.name === 'controlnet_cond')!.shape).toEqual([2, 3, 512, 384]);
    const expected = controlResidualShapes(cfg, 2, 64, 48);
    expect(expected.down.map((s, i) => outs[`down_residual_${i}`])).toEqual(expected.down);
    expect(outs.mid_residual).toEqual(expected.mid);
  });
});

describe('ControlNet fixture files', () => {
  it('both tiny files open, detect as ControlNets and map to the same tensors', () => {
    const a = openModel('test/fixtures/reference/controlnet/controlnet.safetensors');
    const b = openModel('test/fixtures/reference/controlnet/controlnet_ldm.safetensors');
    try {
      const ca = canonicalizeControlNet(a);
      const cb = canonicalizeControlNet(b);
      expect([ca.layout, cb.layout]).toEqual(['diffusers', 'ldm']);
      expect(ca.weights.names().sort()).toEqual(cb.weights.names().sort());
      for (const n of ca.weights.names()) expect(Array.from(cb.weights.get(n)!.readF32()), n).toEqual(Array.from(ca.weights.get(n)!.readF32()));
      expect(detectModel(a).family).toBe('controlnet');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a checkpoint that is not a ControlNet is not detected as one', () => {
    const t = openModel('test/fixtures/reference/unet2d/weights_ldm.safetensors');
    try {
      expect(detectModel(t).family).toBe('unet');
    } finally {
      t.close();
    }
  });
});

describe('a diffusers ControlNet folder (config.json + diffusion_pytorch_model.safetensors)', () => {
  it('opens as a folder, detects as a ControlNet and takes heads and groups from its config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cn-folder-'));
    try {
      copyFileSync('test/fixtures/reference/controlnet/controlnet.safetensors', join(dir, 'diffusion_pytorch_model.safetensors'));
      copyFileSync('test/fixtures/reference/controlnet/config.json', join(dir, 'config.json'));
      const t = openModel(dir);
      try {
        const d = detectModel(t);
        expect(d.family).toBe('controlnet');
        expect(d.configs.controlnet!.norm_num_groups).toBe(8);
        expect(d.configs.controlnet!.layout).toBe('diffusers');
      } finally {
        t.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
