/**
 * The session pool under a budget, on real onnxruntime sessions of the starter model: least recently used
 * sessions close first, busy ones never, and a generation after evictions gives exactly the frames of one that
 * kept every session open.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import { graphName, type GraphId } from '../../../src/main/engine/models/graph-identity';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { weightBytes } from '../../../src/main/engine/memory/weight-bytes';
import type { UNetCallShape } from '../../../src/main/engine/pipelines/pipeline-models';
import { textToVideo, type TextToVideoRequest } from '../../../src/main/engine/pipelines/text-to-video';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';

let root: string;
const sets: ModelSet[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'session-pool-'));
});
afterAll(async () => {
  for (const s of sets) await s.dispose();
  rmSync(root, { recursive: true, force: true });
});

function modelSet(sessionBudgetBytes?: number): ModelSet {
  const s = new ModelSet(starterSource(), { cacheRoot: join(root, 'cache'), providers: ['cpu'], sessionBudgetBytes });
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
    const unetBytes = weightBytes(starterSource(), 'unet', 'float32');
    const set = modelSet(Math.floor(2.5 * unetBytes)); // room for two UNet sessions, not three
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

  it('never closes a session that is running: concurrent calls over budget all complete', async () => {
    const set = modelSet(1); // every new session is over budget
    const outs = await Promise.all([unetCall(set, 1), unetCall(set, 2), unetCall(set, 1)]);
    expect(outs.every((o) => o.every(Number.isFinite))).toBe(true);
    expect(Buffer.from(outs[0].buffer).equals(Buffer.from(outs[2].buffer))).toBe(true);
  });

  it('a generation whose sessions are evicted at every model switch gives the frames of one that keeps them all', async () => {
    const tokenizer = ClipTokenizer.load();
    const req: TextToVideoRequest = {
      prompt: 'a lighthouse on a cliff, stormy sea',
      negativePrompt: 'blurry',
      seed: 11,
      steps: 2,
      guidance: 1.5,
      frames: 4,
      width: 64,
      height: 64,
      clipSkip: 1,
      weighting: 'a1111',
      scheduler: DEFAULT_PARAMS.scheduler,
    };
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
