import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitOutputDir, createTemporaryDir, writeFileAtomic } from '../../../src/main/store/atomic-files';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { GenerationsStore } from '../../../src/main/store/generations-store';
import { HistoryService } from '../../../src/main/services/history-service';
import { LibraryService } from '../../../src/main/services/library-service';
import { TimelineService } from '../../../src/main/services/timeline-service';
import type { GenerationOutputs } from '../../../src/shared/domain/history';
import { StudioError } from '../../../src/shared/errors';
import { LORA_KOHYA, META, params, tempDataDir } from './helpers';
import { rejection } from '../refusal';


/** Writes `frames` tiny files the way the generation code will: temp folder, then one rename. */
async function writeOutputs(history: HistoryService, id: number, frames = 4): Promise<GenerationOutputs> {
  const final = history.outputDirFor(id);
  const tmp = await createTemporaryDir(join(final, 'frames'));
  for (let i = 0; i < frames; i++) writeFileSync(join(tmp, `${String(i).padStart(4, '0')}.png`), Buffer.from([i, 1, 2, 3]));
  await commitOutputDir(tmp, join(final, 'frames'));
  await writeFileAtomic(join(final, 'clip.mp4'), Buffer.alloc(64, 7));
  return { framesDir: join(final, 'frames'), frameCount: frames, videos: [join(final, 'clip.mp4')], thumbnail: join(final, 'frames', '0000.png') };
}

describe('HistoryService', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  let history: HistoryService;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('hist-'));
    db = openDatabase(join(dir, 'data'));
    history = new HistoryService(db);
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('records the life of a generation with everything needed to reproduce it', async () => {
    const p = params({ loras: [{ path: LORA_KOHYA, weight: 0.7 }], model: '/models/dreamy.safetensors' });
    const q = await history.createGeneration(p, { ...META, hashes: { model: 'ab'.repeat(32) } });
    expect(q).toMatchObject({ status: 'queued', params: p, noise: META.noise, engineVersion: META.engineVersion, origin: 'new', parentId: null, outputs: null, error: null, startedAt: null });
    expect(q.hashes).toEqual({ model: 'ab'.repeat(32), motion: null, lcmLora: null, loras: [null] });

    const r = await history.markRunning(q.id, { engineVersion: '0.2.0', hashes: { motion: 'cd'.repeat(32), loras: ['ef'.repeat(32)] } });
    expect(r.status).toBe('running');
    expect(r.startedAt).not.toBeNull();
    expect(r.hashes).toEqual({ model: 'ab'.repeat(32), motion: 'cd'.repeat(32), lcmLora: null, loras: ['ef'.repeat(32)] });
    expect(r.engineVersion).toBe('0.2.0');

    const outputs = await writeOutputs(history, q.id);
    const d = await history.markDone(q.id, outputs, { denoise: 1200, decode: 300 });
    expect(d).toMatchObject({ status: 'done', outputs, timings: { denoise: 1200, decode: 300 } });
    expect(d.finishedAt! >= d.startedAt!).toBe(true);
    expect(readdirSync(outputs.framesDir!)).toHaveLength(4);
    expect(await history.getGeneration(q.id)).toEqual(d);
    // Recorded before the engine said where it ran: no provider or precision.
    expect(d.ranOn).toBeNull();
  });

  it('keeps where a finished generation ran: provider, precision and the stages re-run in fp32', async () => {
    const g = await history.createGeneration(params(), META);
    await history.markRunning(g.id, {});
    const ranOn = { provider: 'webgpu' as const, precision: 'float16' as const, fp32Reruns: ['VAE decoder'] };
    const d = await history.markDone(g.id, await writeOutputs(history, g.id), { denoise: 10 }, ranOn);
    expect(d.ranOn).toEqual(ranOn);
    expect((await history.getGeneration(g.id))?.ranOn).toEqual(ranOn);
    expect((await history.listGenerations({})).items.find((x) => x.id === g.id)?.ranOn).toEqual(ranOn);
  });

  it('never records outputs that are not on disk, and refuses impossible status changes', async () => {
    const g = await history.createGeneration(params(), META);
    expect((await rejection(history.markDone(g.id, { framesDir: null, frameCount: 0, videos: [], thumbnail: null }))).code).toBe('BAD_REQUEST');
    await history.markRunning(g.id);
    const missing = { framesDir: join(dir, 'data', 'outputs', String(g.id), 'frames'), frameCount: 16, videos: [], thumbnail: null };
    expect((await rejection(history.markDone(g.id, missing))).code).toBe('FILE_NOT_FOUND');
    expect((await history.getGeneration(g.id)).status).toBe('running');
    expect((await rejection(history.markRunning(g.id))).code).toBe('BAD_REQUEST');

    const failed = await history.markFailed(g.id, new StudioError('INFERENCE_FAILED', 'The GPU ran out of memory.', { stage: 'decode' }), { denoise: 50 });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'INFERENCE_FAILED', message: 'The GPU ran out of memory.', details: { stage: 'decode' } }, timings: { denoise: 50 } });
    expect((await rejection(history.markCancelled(g.id))).code).toBe('BAD_REQUEST');

    const c = await history.createGeneration(params(), META);
    expect((await history.markCancelled(c.id)).status).toBe('cancelled');
    expect((await rejection(history.getGeneration(12345))).code).toBe('NOT_FOUND');
  });

  it('re-rolls with a new seed, re-runs with the same seed, and hands parameters back for reuse', async () => {
    const seeds = [42, 42, 777];
    const h = new HistoryService(db, { newSeed: () => seeds.shift()! });
    const src = await h.createGeneration(params({ seed: 42, loras: [{ path: LORA_KOHYA, weight: 0.5, sha256: 'aa'.repeat(32) }] }), { ...META, hashes: { model: 'bb'.repeat(32) } });
    const rolled = await h.reroll(src.id);
    // 42 twice (the source's own seed) is skipped: a re-roll never repeats the clip.
    expect(rolled.params).toEqual({ ...src.params, seed: 777 });
    expect(rolled).toMatchObject({ status: 'queued', origin: 'reroll', parentId: src.id, hashes: src.hashes, noise: src.noise });
    expect((await h.reroll(src.id, { seed: 9 })).params.seed).toBe(9);
    expect((await rejection(h.reroll(src.id, { seed: -1 }))).code).toBe('INVALID_PARAMS');

    const rerun = await h.rerunExact(src.id);
    expect(rerun.params).toEqual(src.params);
    expect(rerun).toMatchObject({ origin: 'rerun', parentId: src.id, status: 'queued' });
    expect(rerun.id).not.toBe(src.id);

    const reused = await h.reuseParams(src.id);
    expect(reused).toEqual(src.params);
    reused.loras[0].weight = 1;
    expect((await h.getGeneration(src.id)).params.loras[0].weight).toBe(0.5);
    expect((await h.listGenerations()).total).toBe(4);
  });

  it('searches prompts and filters by model, LoRA, dates, favourite and status, with paging', async () => {
    const store = new GenerationsStore(db);
    const fox = store.insert(params({ prompt: 'A red fox running through deep snow', model: '/m/dreamy.safetensors', loras: [{ path: '/l/snow.safetensors', weight: 1 }] }), { ...META, hashes: { model: 'abcdef'.padEnd(64, '0'), loras: ['123456'.padEnd(64, '0')] } }, '2026-01-05T10:00:00.000Z');
    const cat = store.insert(params({ prompt: 'sleeping cat, "cosy" (window:1.2)', negativePrompt: 'foxes' }), META, '2026-02-10T10:00:00.000Z');
    const city = store.insert(params({ prompt: 'neon city at night' }), { ...META, hashes: { model: 'fedcba'.padEnd(64, '0') } }, '2026-03-15T10:00:00.000Z');
    await history.setFavourite(cat.id, true);
    store.markCancelled(city.id);
    const ids = async (f: Parameters<HistoryService['listGenerations']>[0]) => (await history.listGenerations(f)).items.map((r) => r.id);

    expect(await ids({ text: 'fox' })).toEqual([fox.id]); // not the cat, whose negative prompt says "foxes"
    expect(await ids({ text: 'slee' })).toEqual([cat.id]); // prefix match
    expect(await ids({ text: 'red snow' })).toEqual([fox.id]);
    expect(await ids({ text: 'SNOW' })).toEqual([fox.id]);
    expect(await ids({ text: 'red cat' })).toEqual([]); // every word must appear
    expect(await ids({ text: '"cosy" (window' })).toEqual([cat.id]); // prompt syntax is not FTS syntax
    expect(await ids({ text: 'AND OR NOT *' })).toEqual([]);
    expect(await ids({ text: '   ' })).toEqual([city.id, cat.id, fox.id]);
    expect(await ids({ model: 'ABCDEF' })).toEqual([fox.id]); // AutoV2-style prefix, any case
    expect(await ids({ model: '/m/dreamy.safetensors' })).toEqual([fox.id]);
    expect(await ids({ lora: '123456' })).toEqual([fox.id]);
    expect(await ids({ lora: '/l/snow.safetensors' })).toEqual([fox.id]);
    expect(await ids({ lora: '/l/other.safetensors' })).toEqual([]);
    expect(await ids({ from: '2026-02-01', to: '2026-02-10' })).toEqual([cat.id]); // a date-only "to" covers that day
    expect(await ids({ from: '2026-02-11T00:00:00.000Z' })).toEqual([city.id]);
    expect(await ids({ favourite: true })).toEqual([cat.id]);
    expect(await ids({ status: 'cancelled' })).toEqual([city.id]);
    expect(await ids({ status: ['queued', 'cancelled'] })).toEqual([city.id, cat.id, fox.id]);
    expect(await ids({ order: 'oldest' })).toEqual([fox.id, cat.id, city.id]);

    const page = await history.listGenerations({ limit: 2, offset: 1 });
    expect(page).toMatchObject({ total: 3, limit: 2, offset: 1 });
    expect(page.items.map((r) => r.id)).toEqual([cat.id, fox.id]);
    expect((await history.listGenerations({ limit: 100000 })).limit).toBe(500);
  });

  it('deletes a record with its output files and timeline clips, but never files outside the data folder', async () => {
    const g = await history.createGeneration(params({ frames: 4 }), META);
    await history.markRunning(g.id);
    const outputs = await writeOutputs(history, g.id);
    const outside = join(dir, 'exported-by-me.mp4');
    writeFileSync(outside, 'mine');
    await history.markDone(g.id, { ...outputs, videos: [...outputs.videos, outside] });
    const timelines = new TimelineService(db);
    const t = await timelines.createTimeline('Project');
    await timelines.addClip(t.id, g.id);
    await timelines.addClip(t.id, g.id);

    const res = await history.deleteGeneration(g.id);
    expect(res).toEqual({ id: g.id, removedFiles: [history.outputDirFor(g.id)], keptFiles: [outside], removedClips: 2 });
    expect(existsSync(history.outputDirFor(g.id))).toBe(false);
    expect(readFileSync(outside, 'utf8')).toBe('mine');
    expect(readdirSync(join(dir, 'data', 'outputs'))).toEqual([]); // no .deleting-… leftovers
    expect((await rejection(history.getGeneration(g.id))).code).toBe('NOT_FOUND');
    expect((await timelines.getTimeline(t.id)).clips).toEqual([]);
  });

  it('keeps the record and its files when the row cannot be deleted (another process holds the lock)', async () => {
    db.close();
    db = openDatabase(join(dir, 'data'), { busyTimeoutMs: 50 });
    history = new HistoryService(db);
    const g = await history.createGeneration(params(), META);
    await history.markRunning(g.id);
    const outputs = await writeOutputs(history, g.id);
    await history.markDone(g.id, outputs);

    const other = new Database(join(dir, 'data', 'studio.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(history.deleteGeneration(g.id)).rejects.toThrow(/busy/i);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await history.getGeneration(g.id)).outputs).toEqual(outputs);
    expect(readdirSync(outputs.framesDir!)).toHaveLength(4);
    expect(readdirSync(join(dir, 'data', 'outputs'))).toEqual([String(g.id)]);
  });

  it('refuses to delete a job that is still queued or running', async () => {
    const g = await history.createGeneration(params(), META);
    expect((await rejection(history.deleteGeneration(g.id))).code).toBe('BAD_REQUEST');
    await history.markRunning(g.id);
    expect((await rejection(history.deleteGeneration(g.id))).code).toBe('BAD_REQUEST');
  });

  it('gives a library item without a preview the first clip made with it', async () => {
    const lib = new LibraryService(db);
    const { item } = await lib.importFile(LORA_KOHYA);
    const g = await history.createGeneration(params({ loras: [{ path: LORA_KOHYA, weight: 1 }] }), { ...META, hashes: { loras: [item.sha256] } });
    await history.markRunning(g.id);
    const outputs = await writeOutputs(history, g.id);
    await history.markDone(g.id, outputs);
    expect(await lib.getItem(item.id)).toMatchObject({ preview: outputs.thumbnail, previewSource: 'generation' });
    // A second clip does not replace it.
    const g2 = await history.createGeneration(params({ loras: [{ path: LORA_KOHYA, weight: 1 }] }), { ...META, hashes: { loras: [item.sha256] } });
    await history.markRunning(g2.id);
    await history.markDone(g2.id, await writeOutputs(history, g2.id));
    expect((await lib.getItem(item.id)).preview).toBe(outputs.thumbnail);
  });
});

describe('start-up recovery', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDataDir('recover-')));
  afterEach(() => cleanup());

  it("marks rows of dead processes interrupted, leaves a live process's rows and this process's own rows alone", () => {
    const data = join(dir, 'data');
    const db = openDatabase(data);
    const store = new GenerationsStore(db);
    const mine = store.insert(params(), META);
    const deadQueued = store.insert(params(), META);
    const deadRunning = store.insert(params(), META);
    store.markRunning(deadRunning.id);
    const live = store.insert(params(), META);
    const done = store.insert(params(), META);
    store.markRunning(done.id);
    // A pid that certainly exited: a child we ran to completion.
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const own = db.sqlite.prepare('UPDATE generations SET owner_pid = ?, owner_token = ? WHERE id = ?');
    own.run(Number(deadPid), 'dead-process', deadQueued.id);
    own.run(Number(deadPid), 'dead-process', deadRunning.id);
    own.run(process.ppid, 'parent-process', live.id);
    own.run(Number(deadPid), 'dead-process', done.id);
    store.markCancelled(done.id);
    // A temp folder left by the dead writer, and one of ours that may be in use.
    mkdirSync(join(data, 'outputs', `.tmp-${deadPid}-abcd1234-7`), { recursive: true });
    mkdirSync(join(data, 'outputs', `.tmp-${process.pid}-abcd1234-8`), { recursive: true });

    const again = openDatabase(data);
    try {
      expect(again.recovered.sort()).toEqual([deadQueued.id, deadRunning.id].sort());
      const status = (id: number) => new GenerationsStore(again).get(id)!.status;
      expect(status(deadQueued.id)).toBe('interrupted');
      expect(status(deadRunning.id)).toBe('interrupted');
      expect(status(mine.id)).toBe('queued');
      expect(status(live.id)).toBe('queued');
      expect(status(done.id)).toBe('cancelled');
      expect(readdirSync(join(data, 'outputs'))).toEqual([`.tmp-${process.pid}-abcd1234-8`]);
      expect(new GenerationsStore(again).get(deadRunning.id)!.finishedAt).not.toBeNull();
    } finally {
      again.close();
      db.close();
    }
  });
});
