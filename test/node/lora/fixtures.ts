import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../../../src/main/compiler/io/safetensors';
import { starterSource } from '../../../src/main/engine/models/model-source';
import type { TensorTable, WeightSet } from '../../../src/main/compiler/io/tensor';

/** Shared helpers for the LoRA tests: the reference cases' base models and LoRA files, and crafted files. */
export const REF = join(__dirname, '../../fixtures/reference');

export function weightsOf(t: TensorTable): WeightSet {
  return { names: () => t.names(), get: (n) => t.get(n), has: (n) => t.get(n) !== undefined };
}

/** The tiny SD1-shaped UNet and CLIP text encoder every `lora*` case uses (files.json `base`). */
export function openBase(): { unet: WeightSet; text_encoder: WeightSet; close(): void } {
  const u = openSafetensors(join(REF, 'unet2d/weights.safetensors'));
  const t = openSafetensors(join(REF, 'clip_text/weights.safetensors'));
  return { unet: weightsOf(u), text_encoder: weightsOf(t), close: () => (u.close(), t.close()) };
}

const made: string[] = [];

export function tmpDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lora-test-'));
  made.push(d);
  return d;
}

/** Removes every folder `tmpDir` made in this test file (call from afterAll). */
export function removeTmpDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Rewrites a LoRA file: each key passes through `rename` (undefined drops it); extra tensors are appended. */
export function rewriteLora(
  src: string,
  dst: string,
  rename: (key: string) => string | undefined,
  opts: { metadata?: Record<string, string> | null; extra?: Array<{ name: string; shape: number[]; data: Float32Array }> } = {},
): void {
  const t = openSafetensors(src);
  try {
    const out: Array<{ name: string; dtype: 'F32'; shape: number[]; data: Float32Array }> = [];
    for (const n of t.names()) {
      const to = rename(n);
      if (to === undefined) continue;
      const v = t.get(n)!;
      out.push({ name: to, dtype: 'F32', shape: v.shape, data: v.readF32() });
    }
    for (const e of opts.extra ?? []) out.push({ ...e, dtype: 'F32' });
    const md = opts.metadata === null ? undefined : (opts.metadata ?? t.metadata);
    writeSafetensors(dst, out, md);
  } finally {
    t.close();
  }
}

/** Deterministic pseudo-random floats in [-s, s). */
export function rand(n: number, seed: number, s = 0.1): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) / 4294967296 * 2 - 1) * s;
  }
  return a;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const MOTION_ATTN = /^(.*\.motion_modules\.\d+)\.transformer_blocks\.(\d+)\.attn([12])\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

/** A MotionLoRA in AnimateDiff's original key layout (v2_lora_*.ckpt), rank r, W' = W + m·up·down. */
export function writeMotionLora(path: string, r: number, seed: number): number {
  const st = starterSource();
  const tensors: TensorToWrite[] = [];
  let i = 0;
  for (const n of st.weights.motion.names().sort()) {
    const m = MOTION_ATTN.exec(n);
    if (!m) continue;
    const [outF, inF] = st.weights.motion.get(n)!.shape;
    const p = m[4] === 'to_out.0' ? 'to_out' : m[4];
    const stem = `${m[1]}.temporal_transformer.transformer_blocks.${m[2]}.attention_blocks.${Number(m[3]) - 1}.processor.${p}_lora`;
    tensors.push({ name: `${stem}.down.weight`, dtype: 'F32', shape: [r, inF], data: rand(r * inF, seed + 2 * i, 0.3) });
    tensors.push({ name: `${stem}.up.weight`, dtype: 'F32', shape: [outF, r], data: rand(outF * r, seed + 2 * i + 1, 0.3) });
    i++;
  }
  writeSafetensors(path, tensors);
  return tensors.length;
}
