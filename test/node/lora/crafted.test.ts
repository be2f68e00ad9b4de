import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { maxAbsDiff, openBase, rand, tmpDir, removeTmpDirs } from './fixtures';

/**
 * Formats the reference files do not contain, on crafted files: full `diff`/`diff_b`, LoCon Tucker `lora_mid`,
 * LoKr with lokr_t2 and both-full factors, PEFT with rsLoRA. Expected values are computed here element by
 * element from the definition (index sums), not with the library's kernels.
 */
const base = openBase();
afterAll(() => {
  base.close();
  removeTmpDirs();
});

const CONV = 'down_blocks.0.resnets.0.conv1'; // [32, 32, 3, 3]
const LIN = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0'; // [32, 32] + bias

function file(tensors: Array<{ name: string; shape: number[]; data?: Float32Array }>, metadata?: Record<string, string>): string {
  const path = join(tmpDir(), 'crafted.safetensors');
  writeSafetensors(path, tensors.map((t, i) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: t.data ?? rand(t.shape.reduce((a, b) => a * b, 1), 11 + i) })), metadata);
  return path;
}

function delta(path: string, key: string, m = 1): Float32Array {
  const a = applyLoraStack(base, [{ file: path, weight: m }]);
  expect(a.reports[0].unmatched).toEqual([]);
  const w = base.unet.get(key)!.readF32();
  return a.unet!.get(key)!.readF32().map((v, i) => v - w[i]);
}

describe('full diff', () => {
  it('adds m·diff to the weight and m·diff_b to the bias', () => {
    const diff = rand(32 * 32, 5);
    const diffB = rand(32, 6);
    const p = file([
      { name: `lora_unet_${LIN.replace(/\./g, '_')}.diff`, shape: [32, 32], data: diff },
      { name: `lora_unet_${LIN.replace(/\./g, '_')}.diff_b`, shape: [32], data: diffB },
    ]);
    expect(maxAbsDiff(delta(p, `${LIN}.weight`, -0.5), diff.map((v) => -0.5 * v))).toBeLessThan(1e-7);
    expect(maxAbsDiff(delta(p, `${LIN}.bias`, -0.5), diffB.map((v) => -0.5 * v))).toBeLessThan(1e-7);
  });
});

describe('LoCon with lora_mid (Tucker)', () => {
  it('ΔW[o,i,h,w] = (alpha/r)·Σ_s Σ_j up[o,s]·mid[s,j,h,w]·down[j,i]', () => {
    const r = 3;
    const down = rand(r * 32, 1);
    const mid = rand(r * r * 9, 2);
    const up = rand(32 * r, 3);
    const name = `lora_unet_${CONV.replace(/\./g, '_')}`;
    const p = file([
      { name: `${name}.lora_down.weight`, shape: [r, 32, 1, 1], data: down },
      { name: `${name}.lora_mid.weight`, shape: [r, r, 3, 3], data: mid },
      { name: `${name}.lora_up.weight`, shape: [32, r, 1, 1], data: up },
      { name: `${name}.alpha`, shape: [], data: Float32Array.of(1.5) },
    ]);
    const want = new Float32Array(32 * 32 * 9);
    for (let o = 0; o < 32; o++)
      for (let i = 0; i < 32; i++)
        for (let k = 0; k < 9; k++) {
          let s = 0;
          for (let a = 0; a < r; a++) for (let j = 0; j < r; j++) s += up[o * r + a] * mid[(a * r + j) * 9 + k] * down[j * 32 + i];
          want[(o * 32 + i) * 9 + k] = (1.5 / r) * s;
        }
    expect(maxAbsDiff(delta(p, `${CONV}.weight`), want)).toBeLessThan(1e-6);
  });
});

describe('LoKr', () => {
  it('both factors full: kron(w1, w2) with scale 1 whatever alpha says', () => {
    const w1 = rand(4 * 4, 1, 1);
    const w2 = rand(8 * 8, 2, 1);
    const name = `lora_unet_${LIN.replace(/\./g, '_')}`;
    const p = file([
      { name: `${name}.lokr_w1`, shape: [4, 4], data: w1 },
      { name: `${name}.lokr_w2`, shape: [8, 8], data: w2 },
      { name: `${name}.alpha`, shape: [], data: Float32Array.of(8) },
    ]);
    const want = new Float32Array(32 * 32);
    for (let a = 0; a < 4; a++) for (let b = 0; b < 8; b++) for (let c = 0; c < 4; c++) for (let d = 0; d < 8; d++) want[(a * 8 + b) * 32 + c * 8 + d] = w1[a * 4 + c] * w2[b * 8 + d];
    expect(maxAbsDiff(delta(p, `${LIN}.weight`), want)).toBeLessThan(1e-6);
  });

  it('Tucker w2 (lokr_t2) on a 3×3 conv: W2[p,q,h,w] = Σ t2[i,j,h,w]·w2_b[j,q]·w2_a[i,p], scale alpha/r', () => {
    const r = 2;
    const w1 = rand(4 * 4, 1, 1); // a=4, c=4 → b=8, d=8
    const t2 = rand(r * r * 9, 2, 1);
    const wa = rand(r * 8, 3, 1); // [r, b]
    const wb = rand(r * 8, 4, 1); // [r, d]
    const name = `lora_unet_${CONV.replace(/\./g, '_')}`;
    const p = file([
      { name: `${name}.lokr_w1`, shape: [4, 4], data: w1 },
      { name: `${name}.lokr_w2_a`, shape: [r, 8], data: wa },
      { name: `${name}.lokr_w2_b`, shape: [r, 8], data: wb },
      { name: `${name}.lokr_t2`, shape: [r, r, 3, 3], data: t2 },
      { name: `${name}.alpha`, shape: [], data: Float32Array.of(1) },
    ]);
    const W2 = new Float32Array(8 * 8 * 9);
    for (let pp = 0; pp < 8; pp++)
      for (let q = 0; q < 8; q++)
        for (let k = 0; k < 9; k++) {
          let s = 0;
          for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) s += t2[(i * r + j) * 9 + k] * wb[j * 8 + q] * wa[i * 8 + pp];
          W2[(pp * 8 + q) * 9 + k] = s;
        }
    const want = new Float32Array(32 * 32 * 9);
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 8; b++)
        for (let c = 0; c < 4; c++)
          for (let d = 0; d < 8; d++) for (let k = 0; k < 9; k++) want[((a * 8 + b) * 32 + c * 8 + d) * 9 + k] = 0.5 * w1[a * 4 + c] * W2[(b * 8 + d) * 9 + k];
    expect(maxAbsDiff(delta(p, `${CONV}.weight`), want)).toBeLessThan(1e-6);
  });
});

describe('PEFT rsLoRA and alpha_pattern', () => {
  it('uses lora_alpha/√r, with per-module alpha overrides', () => {
    const r = 4;
    const A = rand(r * 32, 1);
    const B = rand(32 * r, 2);
    const other = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
    const p = file(
      [
        { name: `unet.${LIN}.lora_A.weight`, shape: [r, 32], data: A },
        { name: `unet.${LIN}.lora_B.weight`, shape: [32, r], data: B },
        { name: `unet.${other}.lora_A.weight`, shape: [r, 32], data: A },
        { name: `unet.${other}.lora_B.weight`, shape: [32, r], data: B },
      ],
      { lora_adapter_metadata: JSON.stringify({ 'unet.r': 4, 'unet.lora_alpha': 8, 'unet.use_rslora': true, 'unet.alpha_pattern': { 'attn1.to_q': 2 } }) },
    );
    const BA = new Float32Array(32 * 32);
    for (let o = 0; o < 32; o++) for (let i = 0; i < 32; i++) for (let k = 0; k < r; k++) BA[o * 32 + i] += B[o * r + k] * A[k * 32 + i];
    expect(maxAbsDiff(delta(p, `${LIN}.weight`), BA.map((v) => (8 / 2) * v))).toBeLessThan(1e-6);
    expect(maxAbsDiff(delta(p, `${other}.weight`), BA.map((v) => (2 / 2) * v))).toBeLessThan(1e-6);
  });
});
