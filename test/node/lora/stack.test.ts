import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { compareMergedWeights } from '../../../src/main/verify/kinds/lora';
import { maxAbsDiff, openBase, REF, rewriteLora, tmpDir, removeTmpDirs } from './fixtures';

/** applyLoraStack against the reference merged weights of every `lora` case, plus the stack's algebra. */
const base = openBase();
afterAll(() => {
  base.close();
  removeTmpDirs();
});

interface Run {
  name: string;
  loras: Array<{ file: string; multiplier: number }>;
  outputs: Record<string, unknown>;
}

const CASES = ['lora', 'lora_kohya_alphas', 'lora_loha', 'lora_lokr', 'lora_stack', 'lora_diffusers_old'];

describe.each(CASES)('reference case %s', (folder) => {
  const files = JSON.parse(readFileSync(join(REF, folder, 'files.json'), 'utf8')) as { kind: string; runs: Run[] };
  it('is kind lora', () => expect(files.kind).toBe('lora'));
  for (const run of files.runs) {
    it(`run ${run.name}: merged weights equal the reference, and only those changed`, () => {
      const applied = applyLoraStack(base, run.loras.map((l) => ({ file: join(REF, folder, l.file), weight: l.multiplier })));
      expect(applied.reports.length).toBe(run.loras.length);
      for (const r of applied.reports) {
        expect(r.unmatched).toEqual([]);
        expect(r.message).toBe(`applied ${r.total}/${r.total} keys`);
      }
      let compared = 0;
      for (const [out, merged] of [
        ['unet_merged_changed_weights', applied.unet!],
        ['te_merged_changed_weights', applied.text_encoder!],
      ] as const) {
        const ref = run.outputs[out];
        if (typeof ref !== 'string') continue;
        const c = compareMergedWeights(folder, out, merged, join(REF, folder, ref));
        expect(c.note).toBeUndefined();
        expect(c.pass).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});

describe('stack algebra', () => {
  const kohya = join(REF, 'lora_kohya_alphas/lora_kohya_alphas.safetensors');
  const loha = join(REF, 'lora_loha/lora_loha.safetensors');

  it('untouched tensors are the base views themselves; touched ones are new', () => {
    const a = applyLoraStack(base, [{ file: kohya, weight: 0.8 }]);
    const touched = new Set(a.unet!.touched());
    for (const n of base.unet.names()) {
      if (touched.has(n)) expect(a.unet!.get(n)).not.toBe(base.unet.get(n));
      else expect(a.unet!.get(n)).toBe(base.unet.get(n));
    }
  });

  it('a LoRA at +m then at −m gives back the base weights', () => {
    const a = applyLoraStack(base, [
      { file: kohya, weight: 0.8 },
      { file: kohya, weight: -0.8 },
    ]);
    expect(a.unet!.touched().length).toBe(52);
    for (const n of a.unet!.touched()) expect(maxAbsDiff(a.unet!.get(n)!.readF32(), base.unet.get(n)!.readF32())).toBeLessThan(1e-6);
  });

  it('W + m·ΔW is linear in m, negative multipliers included', () => {
    const p = applyLoraStack(base, [{ file: loha, weight: 0.5 }]);
    const n = applyLoraStack(base, [{ file: loha, weight: -1 }]);
    for (const k of p.unet!.touched()) {
      const w = base.unet.get(k)!.readF32();
      const wp = p.unet!.get(k)!.readF32();
      const wn = n.unet!.get(k)!.readF32();
      // (wp − w) = −0.5·(wn − w)
      let m = 0;
      for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(wp[i] - w[i] + 0.5 * (wn[i] - w[i])));
      expect(m).toBeLessThan(1e-6);
    }
  });

  it('a stack adds both LoRAs: (kohya 0.7 + LoHa 0.4) = kohya 0.7 alone + LoHa 0.4 alone − base', () => {
    const s = applyLoraStack(base, [
      { file: kohya, weight: 0.7 },
      { file: loha, weight: 0.4 },
    ]);
    const k = applyLoraStack(base, [{ file: kohya, weight: 0.7 }]);
    const l = applyLoraStack(base, [{ file: loha, weight: 0.4 }]);
    const union = new Set([...k.unet!.touched(), ...l.unet!.touched()]);
    expect(new Set(s.unet!.touched())).toEqual(union);
    for (const n of union) {
      const w = base.unet.get(n)!.readF32();
      const a = k.unet!.get(n)!.readF32();
      const b = l.unet!.get(n)!.readF32();
      const sum = w.map((v, i) => a[i] + b[i] - v);
      expect(maxAbsDiff(s.unet!.get(n)!.readF32(), sum)).toBeLessThan(1e-6);
    }
  });

  it('weight 0 changes nothing numerically but still reports coverage', () => {
    const a = applyLoraStack(base, [{ file: kohya, weight: 0 }]);
    expect(a.reports[0].applied).toBe(228);
    for (const n of a.unet!.touched()) expect(maxAbsDiff(a.unet!.get(n)!.readF32(), base.unet.get(n)!.readF32())).toBe(0);
  });
});

describe('PEFT scale defaults', () => {
  it('without lora_adapter_metadata, diffusers files use alpha = r (scale 1): the delta doubles against alpha 2 / r 4', () => {
    const dir = tmpDir();
    const src = join(REF, 'lora/lora_diffusers.safetensors');
    const dst = join(dir, 'no_meta.safetensors');
    rewriteLora(src, dst, (k) => k, { metadata: null });
    const withMeta = applyLoraStack(base, [{ file: src, weight: 1 }]);
    const noMeta = applyLoraStack(base, [{ file: dst, weight: 1 }]);
    const linear = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight';
    const w = base.unet.get(linear)!.readF32();
    const a = withMeta.unet!.get(linear)!.readF32();
    const b = noMeta.unet!.get(linear)!.readF32();
    expect(maxAbsDiff(b.map((v, i) => v - w[i]), a.map((v, i) => 2 * (v - w[i])))).toBeLessThan(1e-6);
    expect(maxAbsDiff(a, w)).toBeGreaterThan(1e-4);
  });
});

describe('old diffusers attn-proc files with a unet. prefix', () => {
  it('apply exactly like the unprefixed file', () => {
    const dir = tmpDir();
    const src = join(REF, 'lora_diffusers_old/lora_attn_procs.safetensors');
    const dst = join(dir, 'prefixed.safetensors');
    rewriteLora(src, dst, (k) => `unet.${k}`);
    const a = applyLoraStack(base, [{ file: src, weight: 0.75 }]);
    const b = applyLoraStack(base, [{ file: dst, weight: 0.75 }]);
    expect(b.reports[0].unmatched).toEqual([]);
    expect(b.unet!.touched().sort()).toEqual(a.unet!.touched().sort());
    const ref = openSafetensors(join(REF, 'lora_diffusers_old/unet_merged_changed_weights.safetensors'));
    for (const n of ref.names()) expect(maxAbsDiff(b.unet!.get(n)!.readF32(), ref.get(n)!.readF32())).toBeLessThan(1e-6);
  });
});
