import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { normalizeLora } from '../../../src/main/engine/lora/normalize';
import type { LoraDelta } from '../../../src/main/engine/lora/types';
import { openBase, REF } from './fixtures';

/**
 * Every format on the reference files: each LoRA module lands on the module lora_modules.json names, with the
 * scale (alpha/r, format defaults applied) the reference used, and every key of the file is consumed.
 */
const base = openBase();
afterAll(() => base.close());

interface ModuleInfo {
  module: string;
  scale: number;
  rank: number | null;
  alpha: number | null;
}

function modulesJson(folder: string): Record<string, ModuleInfo> {
  const j = JSON.parse(readFileSync(join(REF, folder, 'lora_modules.json'), 'utf8')) as Record<string, Record<string, ModuleInfo>>;
  return Object.values(j)[0];
}

function normalized(path: string): ReturnType<typeof normalizeLora> {
  const t = openSafetensors(join(REF, path));
  return normalizeLora(t, base);
}

function byModule(deltas: LoraDelta[]): Map<string, LoraDelta> {
  return new Map(deltas.map((d) => [d.module, d]));
}

function targetOf(d: LoraDelta): string {
  return `${d.target.component === 'unet' ? 'unet' : 'te'}:${d.target.key.replace(/\.weight$/, '')}`;
}

describe.each([
  ['lora_kohya_alphas', 'lora_kohya_alphas/lora_kohya_alphas.safetensors', 'kohya', 'lowrank'],
  ['lora_loha', 'lora_loha/lora_loha.safetensors', 'lycoris_loha', 'loha'],
  ['lora_lokr', 'lora_lokr/lora_lokr.safetensors', 'lycoris_lokr', 'lokr'],
  ['lora_diffusers_old', 'lora_diffusers_old/lora_attn_procs.safetensors', 'diffusers_attn_procs', 'lowrank'],
])('%s', (folder, file, format, kind) => {
  const lora = normalized(file);
  const ref = modulesJson(folder);

  it('applies every key of the file', () => {
    expect(lora.unmatched).toEqual([]);
    expect(lora.applied).toBe(lora.total);
    expect(lora.total).toBe(openSafetensors(join(REF, file)).names().length);
  });

  it('maps each module to the reference target with the reference scale', () => {
    const got = byModule(lora.deltas);
    expect(got.size).toBe(Object.keys(ref).length);
    for (const [name, info] of Object.entries(ref)) {
      // attn-proc files are keyed `…processor.to_q` there; the file's module is `…processor.to_q_lora`
      const d = got.get(name) ?? got.get(`${name}_lora`);
      expect(d, name).toBeDefined();
      expect(targetOf(d!)).toBe(info.module);
      expect(d!.scale).toBeCloseTo(info.scale, 6);
      expect(d!.format).toBe(format);
      expect(d!.kind).toBe(kind);
      expect(d!.delta().length).toBe(d!.shape.reduce((a, b) => a * b, 1));
    }
  });
});

describe('kohya without alpha', () => {
  it('uses alpha = rank (scale 1) for the modules that have no .alpha key', () => {
    const lora = normalized('lora_kohya_alphas/lora_kohya_alphas.safetensors');
    const t = openSafetensors(join(REF, 'lora_kohya_alphas/lora_kohya_alphas.safetensors'));
    const noAlpha = lora.deltas.filter((d) => !t.names().includes(`${d.module}.alpha`));
    expect(noAlpha.length).toBe(18);
    for (const d of noAlpha) expect(d.scale).toBe(1);
    const withAlpha = lora.deltas.filter((d) => t.names().includes(`${d.module}.alpha`));
    expect(withAlpha.some((d) => d.scale !== 1)).toBe(true);
  });
});

describe('kohya and diffusers/PEFT spellings of the same LoRA', () => {
  it('give the same targets, scales and deltas', () => {
    const k = normalized('lora/lora_kohya.safetensors');
    const p = normalized('lora/lora_diffusers.safetensors');
    expect(k.unmatched).toEqual([]);
    expect(p.unmatched).toEqual([]);
    expect(p.deltas.every((d) => d.format === 'diffusers_peft')).toBe(true);
    const pk = new Map(p.deltas.map((d) => [`${d.target.component}:${d.target.key}`, d]));
    expect(pk.size).toBe(k.deltas.length);
    for (const d of k.deltas) {
      const q = pk.get(`${d.target.component}:${d.target.key}`);
      expect(q, d.module).toBeDefined();
      // PEFT scale from lora_adapter_metadata (lora_alpha, rank_pattern) = kohya's alpha/rank (0.5 linear, 1 conv)
      expect(q!.scale).toBeCloseTo(d.scale, 7);
      expect(d.scale).toBe(d.rank === 4 ? 0.5 : 1);
      const a = d.delta();
      const b = q!.delta();
      expect(a.length).toBe(b.length);
      let m = 0;
      for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
      expect(m).toBeLessThan(1e-6);
    }
  });
});
