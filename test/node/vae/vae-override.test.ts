import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVaeConfig } from '../../../src/main/compiler/families/configs';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../../../src/main/compiler/io/safetensors';
import { openVaeOverride } from '../../../src/main/engine/models/vae-override';
import { openCanonical } from '../../../src/main/verify/canonical';
import { StudioError } from '../../../src/shared/errors';
import { refusal } from '../refusal';

/**
 * Standalone VAE files replacing a model's VAE, in the layout variants the fixture does not ship (prefixes,
 * mid-attention stored as Linear [C,C]), and the files that must be refused with a typed error.
 */
const REF = join(__dirname, '../../fixtures/reference');
const STANDALONE = join(REF, 'vae_override/vae_standalone_ldm.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'vae-override-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = parseVaeConfig(JSON.parse(readFileSync(join(REF, 'vae/config.json'), 'utf8')) as Record<string, unknown>);

/** The model the override replaces a VAE in: the fixture's `vae` (same config, other weights). */
function withModel<T>(f: (model: { weights: ReturnType<typeof openCanonical>['weights'] }) => T): T {
  const m = openCanonical(join(REF, 'vae/weights.safetensors'), 'vae');
  try {
    return f(m);
  } finally {
    m.close();
  }
}

/** The standalone file rewritten: keys renamed / reshaped by `map` (undefined drops a tensor). */
function rewrite(name: string, map: (key: string, shape: number[]) => { key: string; shape: number[] } | undefined): string {
  const src = openSafetensors(STANDALONE);
  const out: TensorToWrite[] = [];
  for (const n of src.names()) {
    const v = src.get(n)!;
    const m = map(n, v.shape);
    if (m) out.push({ name: m.key, dtype: 'F32', shape: m.shape, data: v.readF32() });
  }
  src.close();
  const path = join(dir, name);
  writeSafetensors(path, out);
  return path;
}


describe('openVaeOverride', () => {
  const reference = withModel((m) => {
    const v = openVaeOverride(STANDALONE, { weights: m.weights, config: cfg });
    const all = new Map(v.weights.names().map((n) => [n, v.weights.get(n)!.readF32()]));
    v.close();
    return all;
  });

  it.each([
    ['first_stage_model. prefix', (k: string, s: number[]) => ({ key: `first_stage_model.${k}`, shape: s })],
    ['vae. prefix', (k: string, s: number[]) => ({ key: `vae.${k}`, shape: s })],
    ['mid attention as Linear [C,C]', (k: string, s: number[]) => ({ key: k, shape: /mid\.attn_1\.(q|k|v|proj_out)\.weight$/.test(k) ? s.slice(0, 2) : s })],
  ])('reads the %s variant as the same tensors', (label, map) => {
    const path = rewrite(`${label.replace(/\W+/g, '_')}.safetensors`, map);
    withModel((m) => {
      const v = openVaeOverride(path, { weights: m.weights, config: cfg });
      try {
        expect(v.weights.names().sort()).toEqual([...reference.keys()].sort());
        for (const [n, want] of reference) expect(Buffer.from(v.weights.get(n)!.readF32().buffer).equals(Buffer.from(want.buffer)), n).toBe(true);
      } finally {
        v.close();
      }
    });
  });

  it('differs from the model VAE it replaces (the override is really used)', () => {
    withModel((m) => {
      const n = 'decoder.conv_out.weight';
      const base = m.weights.get(n)!.readF32();
      expect(Buffer.from(reference.get(n)!.buffer).equals(Buffer.from(base.buffer))).toBe(false);
    });
  });

  it('refuses a VAE of another family (16 latent channels) with MODEL_FAMILY_UNSUPPORTED', () => {
    const path = join(dir, 'flux_like.safetensors');
    const src = openSafetensors(STANDALONE);
    const t: TensorToWrite[] = src.names().map((n) => {
      const v = src.get(n)!;
      if (n === 'decoder.conv_in.weight') return { name: n, dtype: 'F32', shape: [v.shape[0], 16, v.shape[2], v.shape[3]], data: new Float32Array(v.shape[0] * 16 * v.shape[2] * v.shape[3]) };
      return { name: n, dtype: 'F32', shape: v.shape, data: v.readF32() };
    });
    src.close();
    writeSafetensors(path, t);
    const e = withModel((m) => refusal(() => openVaeOverride(path, { weights: m.weights, config: cfg })));
    expect(e.code).toBe('MODEL_FAMILY_UNSUPPORTED');
    expect(e.message).toMatch(/16 latent channels/);
  });

  it('refuses a file that is not a VAE, and a VAE made for other channels', () => {
    const lora = withModel((m) => refusal(() => openVaeOverride(join(REF, 'lora_motion/motion_lora.safetensors'), { weights: m.weights, config: cfg })));
    expect(lora.code).toBe('MODEL_FAMILY_UNSUPPORTED');
    expect(lora.message).toMatch(/is not a VAE/);
    const partial = rewrite('partial.safetensors', (k, s) => (k.startsWith('encoder.mid') ? undefined : { key: k, shape: s }));
    const e = withModel((m) => refusal(() => openVaeOverride(partial, { weights: m.weights, config: cfg })));
    expect(e.code).toBe('MODEL_KEYS_MISSING');
    expect(e.message).toMatch(/lacks \d+ VAE weight/);
  });

  it('refuses a corrupt VAE file with a typed error', () => {
    const bytes = readFileSync(STANDALONE);
    const cut = join(dir, 'truncated.safetensors');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const e = withModel((m) => refusal(() => openVaeOverride(cut, { weights: m.weights, config: cfg })));
    expect(['FILE_TRUNCATED', 'SAFETENSORS_INVALID']).toContain(e.code);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, Buffer.from('<html>not a model</html>'));
    const j = withModel((m) => refusal(() => openVaeOverride(junk, { weights: m.weights, config: cfg })));
    expect(j).toBeInstanceOf(StudioError);
  });
});
