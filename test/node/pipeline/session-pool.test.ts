/**
 * The session pool under a budget, on real onnxruntime sessions of the starter model: least recently used
 * sessions close first, busy ones never, and a generation after evictions gives exactly the frames of one that
 * kept every session open.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { acquireModels, generate, releaseModels } from '../../../src/main/engine/generate';
import { MEMORY_LIMIT_ENV } from '../../../src/main/engine/memory/machine';
import { graphName, type GraphId } from '../../../src/main/engine/models/graph-identity';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { sessionMemory } from '../../../src/main/engine/memory/estimate';
import { convPlanFor } from '../../../src/main/compiler/graph/conv-plan';
import type { UNetCallShape } from '../../../src/main/engine/pipelines/pipeline-models';
import { textToVideo, type TextToVideoRequest } from '../../../src/main/engine/pipelines/text-to-video';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';

let root: string;
const sets: ModelSet[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'session-pool-'));
});
afterAll(async () => {
  await releaseModels();
  for (const s of sets) await s.dispose();
  rmSync(root, { recursive: true, force: true });
});

function modelSet(sessionBudgetBytes?: number, oneUNet?: boolean): ModelSet {
  const s = new ModelSet(starterSource(), { cacheRoot: join(root, 'cache'), providers: ['cpu'], sessionBudgetBytes, oneUNet });
  sets.push(s);
  return s;
}

const names = (ids: GraphId[]): string[] => ids.map(graphName);

describe('SessionPool (starter model, real sessions)', () => {
  const shape = (frames: number): UNetCallShape => ({ batch: 1, frames, latentHeight: 8, latentWidth: 8, tokens: 77 });
  const unetCall = (set: ModelSet, frames: number): Promise<Float32Array> => {
    const s = shape(frames);
    const n = s.frames * 4 * 8 * 8;
    const sample = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    const context = Float32Array.from({ length: s.frames * 77 * 64 }, (_, i) => Math.cos(i * 0.11) * 0.5);
    return set.unet(sample, 500, context, s);
  };

  it('closes the least recently used idle session when a new one would pass the budget', async () => {
    // The pool counts each session at the job guard's estimate: weights W plus an arena A per frame here.
    const bytes = (frames: number): number => sessionMemory(starterSource(), { component: 'unet', ...shape(frames) }, { precision: 'float32', gpu: false, conv: convPlanFor('cpu') }).host;
    const arena = bytes(2) - bytes(1);
    const set = modelSet(bytes(2) + bytes(3) + 1); // room for two of these sessions, never three
    expect(bytes(1) + bytes(2) + bytes(3)).toBeGreaterThan(set.pool.budgetBytes);
    expect(arena).toBeGreaterThan(0);
    const a1 = await unetCall(set, 1);
    await unetCall(set, 2);
    expect(names(set.pool.resident())).toEqual(['unet_b1_f1_8x8_t77', 'unet_b1_f2_8x8_t77']);
    await unetCall(set, 1); // f1 is now the most recently used
    await unetCall(set, 3); // needs room: f2 (least recent) goes, f1 stays
    expect(names(set.pool.resident())).toEqual(['unet_b1_f1_8x8_t77', 'unet_b1_f3_8x8_t77']);
    expect(set.pool.stats.evicted).toBe(1);
    expect(set.pool.residentBytes).toBeLessThanOrEqual(set.pool.budgetBytes);
    // the evicted shape reopens from the cache (no compile) and computes the same numbers
    const compiled = set.compiled.length;
    const opened = set.stats.sessionsCreated;
    await unetCall(set, 2);
    expect(set.stats.sessionsCreated).toBe(opened + 1);
    expect(set.compiled.length).toBe(compiled);
    expect(names(set.pool.resident())).toEqual(['unet_b1_f3_8x8_t77', 'unet_b1_f2_8x8_t77']);
    expect(Buffer.from((await unetCall(set, 1)).buffer).equals(Buffer.from(a1.buffer))).toBe(true);
  });

  it('keeps one UNet session at a time when asked (as on a GPU), whatever the budget', async () => {
    const set = modelSet(undefined, true);
    const a = await unetCall(set, 1);
    await set.encodeText(Array.from({ length: 77 }, (_, i) => (i === 0 ? 49406 : 49407)), 1);
    await unetCall(set, 2);
    expect(names(set.pool.resident())).toEqual(['clip_text_s77', 'unet_b1_f2_8x8_t77']);
    expect(set.pool.stats.evicted).toBe(1);
    expect(Buffer.from((await unetCall(set, 1)).buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(names(set.pool.resident())).toEqual(['clip_text_s77', 'unet_b1_f1_8x8_t77']);
  });

  it('never closes a session that is running: concurrent calls over budget all complete', async () => {
    const set = modelSet(1); // every new session is over budget
    const outs = await Promise.all([unetCall(set, 1), unetCall(set, 2), unetCall(set, 1)]);
    expect(outs.every((o) => o.every(Number.isFinite))).toBe(true);
    expect(Buffer.from(outs[0].buffer).equals(Buffer.from(outs[2].buffer))).toBe(true);
  });

  it('a generation whose sessions are evicted at every model switch gives the frames of one that keeps them all', async () => {
    const tokenizer = ClipTokenizer.load();
    const { prompt, negativePrompt, clipSkip, weighting, scheduler } = DEFAULT_PARAMS;
    const req: TextToVideoRequest = { prompt, negativePrompt, clipSkip, weighting, scheduler, seed: 11, steps: 2, guidance: 1.5, frames: 4, width: 64, height: 64 };
    const roomy = modelSet();
    const tight = modelSet(1); // text encoder, UNet and VAE evict each other
    const ref = await textToVideo(roomy.models(), req, { tokenizer });
    const first = await textToVideo(tight.models(), req, { tokenizer });
    const again = await textToVideo(tight.models(), req, { tokenizer }); // every session reopened once more
    expect(roomy.pool.stats.evicted).toBe(0);
    expect(tight.pool.stats.evicted).toBeGreaterThanOrEqual(4);
    expect(tight.pool.resident().length).toBe(1);
    expect(Buffer.from(first.frames.buffer).equals(Buffer.from(ref.frames.buffer))).toBe(true);
    expect(Buffer.from(again.frames.buffer).equals(Buffer.from(ref.frames.buffer))).toBe(true);
  });
});

describe('generate(): the model set kept between generations stays within this machine\'s budget', () => {
  it('closes the sessions of earlier shapes when the budget says so, instead of keeping one per shape', async () => {
    // A 0.32 GB "machine": a 64×64 generation fits (≈ 250 MB estimated), its sessions (≈ 32 MB) fit the pool's
    // budget (usable − runtime base ≈ 54 MB), two generations' sessions do not.
    process.env[MEMORY_LIMIT_ENV] = '0.32';
    try {
      await releaseModels();
      const base: GenerationParams = { ...DEFAULT_PARAMS, prompt: 'a red kite', width: 64, height: 64, frames: 2, steps: 1, seed: 4 };
      const cacheRoot = join(root, 'cache');
      const shapes = [{}, { frames: 3 }, { width: 128 }, { height: 128 }].map((o) => ({ ...base, ...o }));
      const first = await generate({ params: shapes[0], outDir: join(root, 'g0'), cacheRoot });
      for (const [i, params] of shapes.entries()) if (i > 0) await generate({ params, outDir: join(root, `g${i}`), cacheRoot });
      const set = await acquireModels(base, cacheRoot);
      expect(set.pool.budgetBytes).toBeLessThan(60e6);
      expect(set.pool.residentBytes).toBeLessThanOrEqual(set.pool.budgetBytes);
      expect(set.pool.stats.evicted).toBeGreaterThan(0);
      expect(set.pool.resident().length).toBeLessThan(1 + 2 * shapes.length); // one text encoder + a UNet and a VAE per shape without a budget
      // the first shape again, its sessions long closed: the same bytes
      const again = await generate({ params: shapes[0], outDir: join(root, 'g0-again'), cacheRoot });
      expect(again.compiled).toEqual([]);
      expect(readdirSync(again.outDir).sort().map((n) => readFileSync(join(again.outDir, n)).toString('base64'))).toEqual(
        readdirSync(first.outDir).sort().map((n) => readFileSync(join(first.outDir, n)).toString('base64')),
      );
    } finally {
      delete process.env[MEMORY_LIMIT_ENV];
      await releaseModels();
    }
  });
});
