/**
 * The job guard: sizes outside the bounds are refused by the CLI with a sentence naming them, and a job whose
 * estimated peak memory cannot fit this machine is refused before it is recorded or started — by the CLI and by
 * the generation queue — with what it needs, what the machine has, and a size and frame count that fit.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StudioError } from '../../../src/shared/errors';
import { estimateGeneration } from '../../../src/main/engine/memory/estimate';
import { checkMemoryFits } from '../../../src/main/engine/memory/guard';
import { MEMORY_LIMIT_ENV, USABLE_FRACTION, type MachineMemory } from '../../../src/main/engine/memory/machine';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import { cli } from '../cli-in-process';
import { makeHarness, tinyParams } from '../generation/helpers';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'memory-guard-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[MEMORY_LIMIT_ENV];
});

const machine = (gb: number): MachineMemory => ({ hostTotal: gb * 1e9, hostUsable: Math.floor(gb * 1e9 * USABLE_FRACTION) });
const cpu = { precision: 'float32', gpu: false } as const;

/** The StudioError `fn` throws (anything else fails the test). */
const refusal = (fn: () => unknown): StudioError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof StudioError) return e;
  }
  throw new Error('expected a StudioError');
};

describe('checkMemoryFits (starter model, CPU)', () => {
  const source = starterSource();

  it('refuses 2048×2048 × 32 frames on an 8 GB machine, naming the need, the machine and what fits', () => {
    // (16 frames fit since guidance may run as two calls)
    const size = { width: 2048, height: 2048, frames: 32, guidance: 1.5 };
    const e = refusal(() => checkMemoryFits(source, size, cpu, machine(8)));
    expect(e.code).toBe('MEMORY_INSUFFICIENT');
    const m = /^A 2048×2048 clip of 32 frames needs about (\d+(?:\.\d)?) GB of memory; this machine has 8\.0 GB \(about 6\.8 GB usable for a generation\) — try (\d+)×(\d+), or at most (\d+) frames at 2048×2048\.$/.exec(e.message);
    expect(m, e.message).not.toBeNull();
    const [need, w, h, frames] = m!.slice(1).map(Number);
    // the need named is the smallest way it could run: guidance as two batch-1 UNet calls under the sample-chunk plan
    const separate = { ...size, guidanceCalls: 'separate' as const, sampleChunks: true };
    expect(need).toBeCloseTo(estimateGeneration(source, separate, cpu).host / 1e9, 1);
    expect(w).toBe(h);
    // the suggestions fit, and are the largest that do (next 64-pixel step / next frame does not)
    const usable = machine(8).hostUsable;
    expect(estimateGeneration(source, { ...separate, width: w, height: h }, cpu).host).toBeLessThanOrEqual(usable);
    expect(estimateGeneration(source, { ...separate, width: w + 64, height: h + 64 }, cpu).host).toBeGreaterThan(usable);
    expect(estimateGeneration(source, { ...separate, frames }, cpu).host).toBeLessThanOrEqual(usable);
    expect(estimateGeneration(source, { ...separate, frames: frames + 1 }, cpu).host).toBeGreaterThan(usable);
  });

  it('keeps the aspect ratio when it suggests a smaller size, and lets what fits through', () => {
    const e = refusal(() => checkMemoryFits(source, { width: 2048, height: 1024, frames: 64, guidance: 1.5 }, cpu, machine(4)));
    const [, w, h] = /try (\d+)×(\d+)/.exec(e.message)!.map(Number);
    expect(w / h).toBeCloseTo(2, 1);
    expect(checkMemoryFits(source, { width: 512, height: 512, frames: 16, guidance: 1.5 }, cpu, machine(4)).estimate.host).toBeLessThan(3e9);
  });
});

describe('checkMemoryFits: guidance halves as separate UNet calls', () => {
  const source = starterSource();
  const size = { width: 1024, height: 1024, frames: 16, guidance: 1.5 };
  const batchedNeed = estimateGeneration(source, size, cpu).host;
  const separateNeed = estimateGeneration(source, { ...size, guidanceCalls: 'separate' }, cpu).host;

  it('halves the UNet arena of a guided clip when the halves run as two calls', () => {
    const a = estimateGeneration(source, size, cpu).parts.unetArena;
    const b = estimateGeneration(source, { ...size, guidanceCalls: 'separate' }, cpu).parts.unetArena;
    expect(b).toBeCloseTo(a / 2, 0);
    expect(estimateGeneration(source, { ...size, guidance: 1 }, cpu).parts.unetArena).toBeCloseTo(b, 0);
  });

  it('under the sample-chunk plan, halves the part that grows with samples and keeps one iteration\'s working set', () => {
    const chunked = { ...size, sampleChunks: true };
    const a = estimateGeneration(source, chunked, cpu).parts.unetArena;
    const b = estimateGeneration(source, { ...chunked, guidanceCalls: 'separate' }, cpu).parts.unetArena;
    const c = estimateGeneration(source, { ...chunked, frames: 8, guidanceCalls: 'separate' }, cpu).parts.unetArena;
    expect(a - b).toBeCloseTo(2 * (b - c), 0);
    expect(c).toBeGreaterThan(b / 2); // the working set does not shrink with the clip
    expect(a).toBeLessThan(estimateGeneration(source, size, cpu).parts.unetArena / 4);
  });

  it('keeps one batched call when it fits, runs separate calls when only they fit, refuses when neither does', () => {
    const between = (separateNeed + batchedNeed) / 2;
    const m = (host: number): MachineMemory => ({ hostTotal: host * 1.25, hostUsable: host });
    expect(checkMemoryFits(source, size, cpu, m(batchedNeed * 1.01)).guidanceCalls).toBe('batched');
    const split = checkMemoryFits(source, size, cpu, m(between));
    expect(split.guidanceCalls).toBe('separate');
    expect(split.estimate.host).toBe(separateNeed);
    expect(split.sampleChunks).toBe(false);
    // below the plain ways: the sample-chunk plan, batched first, then separate; below those, refused
    const chunkedBatched = estimateGeneration(source, { ...size, sampleChunks: true }, cpu).host;
    const chunkedSeparate = estimateGeneration(source, { ...size, guidanceCalls: 'separate', sampleChunks: true }, cpu).host;
    expect(chunkedBatched).toBeLessThan(separateNeed);
    const chunked = checkMemoryFits(source, size, cpu, m(separateNeed * 0.99));
    expect([chunked.guidanceCalls, chunked.sampleChunks]).toEqual(['batched', true]);
    const smallest = checkMemoryFits(source, size, cpu, m(chunkedBatched * 0.99));
    expect([smallest.guidanceCalls, smallest.sampleChunks, smallest.estimate.host]).toEqual(['separate', true, chunkedSeparate]);
    expect(refusal(() => checkMemoryFits(source, size, cpu, m(chunkedSeparate * 0.99))).code).toBe('MEMORY_INSUFFICIENT');
    // a GPU has no sample-chunk plan
    const gpu = { precision: 'float16', gpu: true } as const;
    expect(checkMemoryFits(source, size, gpu, { hostTotal: 64e9, hostUsable: 50e9, deviceTotal: 100e9, deviceUsable: 80e9 }).sampleChunks).toBe(false);
    // guidance 1 has no halves to split
    expect(checkMemoryFits(source, { ...size, guidance: 1 }, cpu, m(between)).guidanceCalls).toBe('batched');
  });
});

describe('CLI: bounds and the memory guard before anything is recorded', () => {
  it('refuses --width 100000 and --frames 1000 with the bounds, writing nothing', async () => {
    const data = join(root, 'bounds');
    const wide = await cli('generate', '--prompt', 'x', '--width', '100000', '--out', join(root, 'wide'), '--data-dir', data);
    expect(wide.code).toBe(1);
    expect(wide.err).toMatch(/--width must be a whole number from 64 to 2048 \(pixels, multiples of 8\); got "100000"/);
    const long = await cli('generate', '--prompt', 'x', '--frames', '1000', '--out', join(root, 'long'), '--data-dir', data);
    expect(long.code).toBe(1);
    expect(long.err).toMatch(/--frames must be a whole number from 1 to 256; got "1000"/);
    expect(existsSync(join(root, 'wide'))).toBe(false);
    expect(existsSync(data)).toBe(false);
  });

  it('refuses a clip that does not fit this machine before it is recorded in the history', async () => {
    const data = join(root, 'guard');
    process.env[MEMORY_LIMIT_ENV] = '1.5';
    const r = await cli('generate', '--prompt', 'x', '--width', '1024', '--height', '1024', '--frames', '16', '--out', join(root, 'big'), '--data-dir', data, '--json');
    expect(r.code).toBe(1);
    const { error } = JSON.parse(r.out) as { error: { code: string; message: string } };
    expect(error.code).toBe('MEMORY_INSUFFICIENT');
    expect(error.message).toMatch(/^A 1024×1024 clip of 16 frames needs about \d+(\.\d)? GB of memory; this machine has 1\.5 GB \(about 1\.\d GB usable for a generation\) — try \d+×\d+, or at most \d+ frames at 1024×1024\.$/);
    expect(existsSync(join(root, 'big'))).toBe(false);
    if (existsSync(data)) {
      const db = openDatabase(data);
      expect((await new HistoryService(db).listGenerations({})).items).toEqual([]);
      db.close();
    }
  });
});

describe('generation queue: the guard runs before a job is recorded', () => {
  it('refuses in enqueue with MEMORY_INSUFFICIENT and records nothing; a job that fits is queued', async () => {
    process.env[MEMORY_LIMIT_ENV] = '1'; // inherited by the worker the harness starts
    const h = makeHarness();
    try {
      await expect(h.queue.enqueue(tinyParams({ width: 2048, height: 2048, frames: 16 }))).rejects.toMatchObject({
        code: 'MEMORY_INSUFFICIENT',
        message: expect.stringMatching(/^A 2048×2048 clip of 16 frames needs about \d+(\.\d)? GB of memory; this machine has 1\.0 GB/),
      });
      expect((await h.history.listGenerations({})).items).toEqual([]);
      const ok = await h.queue.enqueue(tinyParams());
      expect(ok.generationId).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });
});
