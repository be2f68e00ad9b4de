import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/shared/errors';
import { openCkpt } from '../../../src/main/compiler/io/ckpt';
import { openModel } from '../../../src/main/compiler/io/open';
import { readPickle, storageFromPid, type PickleContext } from '../../../src/main/compiler/io/pickle';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import type { TensorTable } from '../../../src/main/compiler/io/tensor';
import { canonicalize } from '../../../src/main/compiler/names/canonicalize';
import { detectModel } from '../../../src/main/compiler/families/detect';
import { tempDir, writeFile, zipStored } from './helpers';

/**
 * Hostile input, seeded: thousands of mutated safetensors headers, pickles and zip checkpoints. Every outcome
 * must be success or a typed StudioError — never another exception, a hang, or a runaway allocation.
 */
const SEED = 0x5eed_2026;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(src: Uint8Array, r: () => number, region: number): Uint8Array {
  const out = Buffer.from(src);
  const int = (n: number): number => Math.floor(r() * n);
  const kind = int(6);
  const at = int(Math.max(1, Math.min(region, out.length)));
  switch (kind) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + int(8); i < n; i++) out[int(Math.min(region, out.length))] = int(256);
      return out;
    case 1: // truncate
      return out.subarray(0, at);
    case 2: // insert random bytes
      return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), out.subarray(at)]);
    case 3: // delete a span
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + int(32))]);
    case 4: // duplicate a span
      return Buffer.concat([out.subarray(0, at + int(64)), out.subarray(at)]);
    default: // interesting integers somewhere
      out.writeUInt32LE([0xffffffff, 0x7fffffff, 0, 1, 0x80000000][int(5)], Math.min(at, Math.max(0, out.length - 4)));
      return out;
  }
}

/** Open, canonicalise, detect and read every tensor: the whole path a hostile file goes through. */
function exercise(open: () => TensorTable): 'ok' | string {
  let t: TensorTable | undefined;
  try {
    t = open();
    const c = canonicalize(t);
    detectModel(t, c);
    for (const n of t.names()) t.get(n)!.readF32();
    return 'ok';
  } catch (e) {
    if (isStudioError(e)) return e.code;
    throw e;
  } finally {
    t?.close();
  }
}

function run(cases: number, make: (r: () => number) => () => 'ok' | string): Map<string, number> {
  const r = rng(SEED);
  const outcomes = new Map<string, number>();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < cases; i++) {
    const go = make(r);
    const started = performance.now();
    let outcome: string;
    try {
      outcome = go();
    } catch (e) {
      throw new Error(`case ${i}: untyped ${(e as Error).name}: ${(e as Error).message}`);
    }
    expect(performance.now() - started, `case ${i} took too long`).toBeLessThan(2000);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  expect(process.memoryUsage().rss - rss0).toBeLessThan(512 * 1024 * 1024);
  if (process.env.FUZZ_REPORT) console.log(Object.fromEntries(outcomes));
  return outcomes;
}

describe('fuzz: only typed errors on hostile input', () => {
  const { dir, cleanup } = tempDir('fuzz');

  it('mutated safetensors files (2000)', () => {
    const base = `${dir}/base.safetensors`;
    writeSafetensors(
      base,
      [
        { name: 'model.diffusion_model.input_blocks.0.0.weight', dtype: 'F16', shape: [4, 4, 3, 3], data: new Uint16Array(144).fill(0x3c00) },
        { name: 'model.diffusion_model.input_blocks.0.0.bias', dtype: 'F32', shape: [4], data: new Float32Array(4) },
        { name: 'first_stage_model.decoder.up.0.block.0.conv1.weight', dtype: 'BF16', shape: [2, 2, 3, 3], data: new Uint16Array(36) },
        { name: 'cond_stage_model.transformer.text_model.embeddings.position_ids', dtype: 'I64', shape: [1, 4], data: new BigInt64Array(4) },
        { name: 'lora_unet_x.alpha', dtype: 'F32', shape: [], data: new Float32Array(1) },
      ],
      { ss_tag_frequency: '{"a": {"b": 1}}', format: 'pt' },
    );
    const bytes = readFileSync(base);
    const header = 8 + Number(bytes.readBigUInt64LE(0));
    const path = `${dir}/m.safetensors`;
    const outcomes = run(2000, (r) => {
      const m = mutate(bytes, r, header);
      writeFile(dir, 'm.safetensors', m);
      return () => exercise(() => openModel(path));
    });
    expect(outcomes.size).toBeGreaterThan(2);
    expect([...outcomes.keys()].every((k) => k === 'ok' || /^[A-Z_]+$/.test(k))).toBe(true);
  });

  it('mutated pickles (3000), walked directly', () => {
    const pkl = Buffer.from(readFileSync('test/fixtures/ckpt/tiny.ckpt'));
    // data.pkl is the first stored entry: local header (30) + name, then the pickle up to its STOP.
    const nameLen = pkl.readUInt16LE(26);
    const start = 30 + nameLen + pkl.readUInt16LE(28);
    const size = pkl.readUInt32LE(18);
    const pickle = pkl.subarray(start, start + size);
    const ctx: PickleContext = { path: '<fuzz>', persistentLoad: (pid) => storageFromPid(ctx, pid) };
    const outcomes = run(3000, (r) => {
      const m = mutate(pickle, r, pickle.length);
      return () => {
        try {
          readPickle(m, ctx);
          return 'ok';
        } catch (e) {
          if (isStudioError(e)) return e.code;
          throw e;
        }
      };
    });
    expect(outcomes.get('PICKLE_INVALID')).toBeGreaterThan(0);
  });

  it('mutated zip checkpoints (800), end to end', () => {
    const tiny = readFileSync('test/fixtures/ckpt/tiny.ckpt');
    const path = `${dir}/m.ckpt`;
    const outcomes = run(800, (r) => {
      // Half the time mutate the whole archive, half the time rebuild it around a mutated pickle.
      let m: Uint8Array;
      if (r() < 0.5) m = mutate(tiny, r, tiny.length);
      else {
        const nameLen = tiny.readUInt16LE(26);
        const start = 30 + nameLen + tiny.readUInt16LE(28);
        const p = mutate(tiny.subarray(start, start + tiny.readUInt32LE(18)), r, 2000);
        const storage = (k: number, n: number): { name: string; data: Uint8Array } => ({ name: `tiny/data/${k}`, data: new Uint8Array(n) });
        m = zipStored([{ name: 'tiny/data.pkl', data: p }, storage(0, 48), storage(1, 12), storage(2, 40), storage(3, 6), storage(4, 16)]);
      }
      writeFile(dir, 'm.ckpt', m);
      return () => exercise(() => openCkpt(path));
    });
    expect(outcomes.size).toBeGreaterThan(1);
  });

  it('random garbage through openModel (300)', () => {
    const path = `${dir}/g.bin`;
    run(300, (r) => {
      const n = Math.floor(r() * 256);
      const b = Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
      if (n > 4 && r() < 0.3) b.set([0x50, 0x4b, 3, 4], 0);
      if (n > 9 && r() < 0.3) b[8] = 0x7b;
      writeFile(dir, 'g.bin', b);
      return () => exercise(() => openModel(path));
    });
    cleanup();
  });
});
