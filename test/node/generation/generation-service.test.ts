import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOISE_GENERATOR } from '../../../src/main/engine/noise/torch-randn';
import { engineHashRunner, FileHashCache } from '../../../src/main/services/generation-hashes';
import { frameFiles, loopMonitor, makeHarness, tinyParams, type Harness } from './helpers';

// One real engine worker and one SQLite data folder for the file: the tests run in order and share the warm
// worker (its first job compiles the starter model's tiny graphs into the data folder's cache).
let h: Harness;
beforeAll(() => {
  h = makeHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Random bytes behind a safetensors-looking head (length 16, then "{"): passes the sniffer, fails the parser. */
function looksLikeSafetensors(size: number): Buffer {
  const b = randomBytes(size);
  b.writeBigUInt64LE(16n, 0);
  b[8] = 0x7b;
  return b;
}

const denoise = (jobId: string) => h.progressOf(jobId).filter((p) => p.stage === 'denoise');

describe('GenerationService (real worker, real SQLite, starter model at 64×64)', () => {
  let first: { jobId: string; generationId: number };

  it('runs queued jobs one at a time in order, records them done with outputs and timings, and keeps main responsive', async () => {
    const monitor = loopMonitor();
    const t0 = performance.now();
    const a = await h.queue.enqueue(tinyParams({ seed: 11 }));
    const b = await h.queue.enqueue(tinyParams({ seed: 12, prompt: 'a red kite over a beach' }));
    first = a;
    expect(h.queue.get(b.jobId).status).toBe('queued');
    expect((await h.history.getGeneration(b.generationId)).status).toBe('queued');

    const [va, vb] = await Promise.all([h.queue.settled(a.jobId), h.queue.settled(b.jobId)]);
    const elapsed = performance.now() - t0;
    const maxGap = monitor.stop();
    expect([va.status, vb.status]).toEqual(['done', 'done']);

    // FIFO, one at a time: B started only after A finished.
    const states = h.events.filter((e) => e.event === 'onJobState').map((e) => `${e.payload.jobId === a.jobId ? 'A' : 'B'}:${e.payload.status}`);
    expect(states.filter((s) => s.startsWith('A'))).toEqual(['A:queued', 'A:running', 'A:done']);
    expect(states.filter((s) => s.startsWith('B'))).toEqual(['B:queued', 'B:running', 'B:done']);
    expect(states.indexOf('B:running')).toBeGreaterThan(states.indexOf('A:done'));

    for (const [ref, seed] of [
      [a, 11],
      [b, 12],
    ] as const) {
      const rec = await h.history.getGeneration(ref.generationId);
      expect(rec.status).toBe('done');
      expect(rec.noise).toEqual({ name: NOISE_GENERATOR.name, version: NOISE_GENERATOR.version });
      expect(rec.engineVersion.length).toBeGreaterThan(0);
      expect(rec.params.seed).toBe(seed);
      const dir = join(h.dataDir, 'outputs', String(ref.generationId));
      expect(rec.outputs).toMatchObject({ framesDir: dir, frameCount: 2 });
      expect(frameFiles(dir)).toHaveLength(2);
      expect(JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')).seed).toBe(seed);
      for (const stage of ['queued', 'encode', 'denoise', 'decode', 'write', 'total']) expect(rec.timings[stage], stage).toBeGreaterThanOrEqual(0);
      expect(rec.timings.denoise).toBeGreaterThan(0);
    }
    const ra = await h.history.getGeneration(a.generationId);
    const rb = await h.history.getGeneration(b.generationId);
    expect(Date.parse(rb.startedAt!)).toBeGreaterThanOrEqual(Date.parse(ra.finishedAt!));

    // A progress event per step, each with latent-resolution previews (64 px / 8 = 8 px, RGB) from step 1 on.
    const steps = denoise(a.jobId);
    expect(steps.map((p) => p.step)).toEqual([1, 2]);
    for (const p of steps) {
      expect(p.totalSteps).toBe(2);
      expect(p.etaMs).toBeGreaterThanOrEqual(0);
      expect(p.preview).toMatchObject({ width: 8, height: 8 });
      expect(p.preview!.frames).toHaveLength(2);
      for (const f of p.preview!.frames) expect(Buffer.from(f, 'base64').length).toBe(8 * 8 * 3);
    }
    // The queue view keeps the latest preview; the API summary leaves previews out.
    expect(h.queue.get(a.jobId).preview?.frames).toHaveLength(2);
    const summary = h.queue.listSummaries().find((s) => s.jobId === a.jobId)!;
    expect(summary).toMatchObject({ status: 'done', generationId: a.generationId });
    expect(summary.progress?.preview).toBeUndefined();
    expect('preview' in summary).toBe(false);

    // Inference ran in the worker: the main thread's timer never stalled for anything like a job's length.
    console.log(`two jobs: ${elapsed.toFixed(0)} ms; main event loop max gap ${maxGap.toFixed(0)} ms`);
    expect(maxGap).toBeLessThan(elapsed / 4);
  });

  it('re-run exact gives byte-identical frames; re-roll gives a new seed and different frames', async () => {
    const rerun = await h.queue.rerunExact(first.generationId);
    const reroll = await h.queue.reroll(first.generationId);
    const [v1, v2] = await Promise.all([h.queue.settled(rerun.jobId), h.queue.settled(reroll.jobId)]);
    expect([v1.status, v2.status]).toEqual(['done', 'done']);

    const rec = await h.history.getGeneration(rerun.generationId);
    expect(rec).toMatchObject({ origin: 'rerun', parentId: first.generationId, status: 'done' });
    expect(rec.params.seed).toBe(11);
    const original = frameFiles(join(h.dataDir, 'outputs', String(first.generationId)));
    const again = frameFiles(rec.outputs!.framesDir!);
    expect(again).toHaveLength(original.length);
    again.forEach((buf, i) => expect(buf.equals(original[i]), `frame ${i}`).toBe(true));

    const rolled = await h.history.getGeneration(reroll.generationId);
    expect(rolled).toMatchObject({ origin: 'reroll', parentId: first.generationId, status: 'done' });
    expect(rolled.params.seed).not.toBe(11);
    const different = frameFiles(rolled.outputs!.framesDir!);
    expect(different.some((buf, i) => !buf.equals(original[i]))).toBe(true);
  });

  it('cancels a queued job at once and a running one within a UNet call, leaving no output', async () => {
    const running = await h.queue.enqueue(tinyParams({ steps: 8, seed: 21 }));
    const queued = await h.queue.enqueue(tinyParams({ seed: 22 }));

    await h.queue.cancel(queued.jobId);
    expect(h.queue.get(queued.jobId).status).toBe('cancelled');
    expect((await h.history.getGeneration(queued.generationId)).status).toBe('cancelled');

    await h.waitProgress(running.jobId, (p) => p.stage === 'denoise' && p.step === 1);
    const stepsAtCancel = denoise(running.jobId).length;
    await h.queue.cancel(running.jobId);
    const view = await h.queue.settled(running.jobId);
    expect(view.status).toBe('cancelled');
    // At most the step already under way (and one in flight to main) completes after the cancel.
    expect(denoise(running.jobId).length - stepsAtCancel).toBeLessThanOrEqual(2);
    expect(denoise(running.jobId).length).toBeLessThan(8);

    const rec = await h.history.getGeneration(running.generationId);
    expect(rec.status).toBe('cancelled');
    expect(rec.outputs).toBeNull();
    expect(h.statesOf(queued.jobId)).toEqual(['queued', 'cancelled']);
    const outputs = join(h.dataDir, 'outputs');
    expect(existsSync(join(outputs, String(running.generationId)))).toBe(false);
    expect(existsSync(join(outputs, String(queued.generationId)))).toBe(false);
    expect(readdirSync(outputs).filter((n) => n.startsWith('.'))).toEqual([]);
    await h.queue.idle();
  });

  it('a worker crash fails the running job with a clear message; the next job runs on a fresh worker', async () => {
    const doomed = await h.queue.enqueue(tinyParams({ steps: 8, seed: 31 }));
    const next = await h.queue.enqueue(tinyParams({ seed: 32 }));
    await h.waitProgress(doomed.jobId, (p) => p.stage === 'denoise' && p.step === 1);
    const { pid } = await h.engine.request('ping', {});
    process.kill(pid, 'SIGKILL');

    const failed = await h.queue.settled(doomed.jobId);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('ENGINE_CRASHED');
    expect(failed.error?.message).toMatch(/engine stopped while generating \(killed by SIGKILL\)/);
    const rec = await h.history.getGeneration(doomed.generationId);
    expect(rec.status).toBe('failed');
    expect(rec.error?.code).toBe('ENGINE_CRASHED');
    expect(existsSync(join(h.dataDir, 'outputs', String(doomed.generationId)))).toBe(false);

    expect((await h.queue.settled(next.jobId)).status).toBe('done');
    expect((await h.engine.request('ping', {})).pid).not.toBe(pid);
  });

  it('a missing model file is refused at enqueue with the file named, and nothing is recorded', async () => {
    const gone = join(h.dataDir, 'gone-checkpoint.safetensors');
    const before = (await h.history.listGenerations({})).total;
    await expect(h.queue.enqueue(tinyParams({ model: gone }))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND', message: expect.stringContaining('gone-checkpoint.safetensors') });
    expect((await h.history.listGenerations({})).total).toBe(before);
  });

  it('a model file that goes missing while queued fails its job with the file named, and the history records the error', async () => {
    const gone = join(h.dataDir, 'vanishing-checkpoint.safetensors');
    writeFileSync(gone, looksLikeSafetensors(256));
    // A job ahead in the queue, so the file is deleted well before its own job opens it.
    const ahead = await h.queue.enqueue(tinyParams());
    const ref = await h.queue.enqueue(tinyParams({ model: gone }));
    rmSync(gone);
    await h.queue.settled(ahead.jobId);
    const view = await h.queue.settled(ref.jobId);
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(view.error?.message).toContain('vanishing-checkpoint.safetensors');
    const rec = await h.history.getGeneration(ref.generationId);
    expect(rec).toMatchObject({ status: 'failed', error: { code: 'FILE_NOT_FOUND' } });
  });

  it('hashes weight files in the worker once per file version', async () => {
    const file = join(h.dataDir, 'some-lora.safetensors');
    const sha = (): string => createHash('sha256').update(readFileSync(file)).digest('hex');
    writeFileSync(file, randomBytes(3 * 1024 * 1024 + 17));
    let runs = 0;
    const worker = engineHashRunner(h.engine);
    const cache = new FileHashCache((paths, id) => {
      runs++;
      return worker(paths, id);
    });
    expect((await cache.hashAll([file], 'hash-1')).get(file)).toBe(sha());
    expect((await cache.hashAll([file], 'hash-2')).get(file)).toBe(sha());
    expect(runs).toBe(1);

    writeFileSync(file, looksLikeSafetensors(1024));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const hashes = await cache.forParams(tinyParams({ loras: [{ path: file, weight: 0.5 }] }), { hash: true, jobId: 'hash-3' });
    expect(runs).toBe(2);
    expect(hashes).toEqual({ model: null, motion: null, lcmLora: null, loras: [sha()] });

    // Through the queue: the run records the file's hash (hashed when the job starts), and a later job over the
    // same unchanged file has it in its record from the moment it is queued. (A safetensors-looking head passes
    // the sniffer at enqueue, but random bytes are no LoRA: the generation itself fails, with the reason recorded.)
    const params = tinyParams({ loras: [{ path: file, weight: 0.5 }] });
    const one = await h.queue.enqueue(params);
    const v1 = await h.queue.settled(one.jobId);
    expect(v1.status).toBe('failed');
    expect(v1.error?.message.length).toBeGreaterThan(0);
    expect(['INTERNAL', 'ENGINE_CRASHED']).not.toContain(v1.error?.code);
    const rec1 = await h.history.getGeneration(one.generationId);
    expect(rec1.hashes.loras).toEqual([sha()]);
    expect(rec1.error).toEqual(v1.error);
    const two = await h.queue.enqueue(params);
    expect((await h.history.getGeneration(two.generationId)).hashes.loras).toEqual([sha()]);
    await h.queue.settled(two.jobId);
  });
});
