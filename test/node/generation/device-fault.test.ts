import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, tinyParams, type Harness } from './helpers';
import { webgpuAvailable } from '../webgpu-device';

/**
 * Issue 14, "Bad input and faults": a GPU lost in the middle of a job (forced from the session run on WebGPU, with
 * the job's LoRA slot feeds and text context already resident on the device) fails that job with a typed error
 * naming what to change; the worker restarts; the job queued behind it runs; history keeps both.
 */
const gpu = await webgpuAvailable();
let h: Harness;
beforeAll(() => {
  // Inherited by the engine worker: its 3rd WebGPU run (the first UNet step, after the two text-encoder runs).
  process.env.ANIMATELCM_INJECT_RUN_FAULT = 'webgpu:3:[WebGPU] device lost: VK_ERROR_DEVICE_LOST (injected)';
  h = makeHarness();
});
afterAll(async () => {
  delete process.env.ANIMATELCM_INJECT_RUN_FAULT;
  await h?.close();
});

describe.skipIf(!gpu.usable)('a device lost mid-job (real worker, real SQLite)', { timeout: 900_000 }, () => {
  it('fails that job as DEVICE_LOST, restarts the engine, runs the next queued job, and keeps the history', async () => {
    const earlier = await h.queue.enqueue(tinyParams({ providers: ['cpu'], seed: 40 }));
    expect((await h.queue.settled(earlier.jobId)).status).toBe('done');
    const { pid } = await h.engine.request('ping', {});

    const lost = await h.queue.enqueue(tinyParams({ providers: ['webgpu'], precision: 'fp32', guidance: 1.5, seed: 41 }));
    const next = await h.queue.enqueue(tinyParams({ providers: ['cpu'], seed: 42 }));
    const failed = await h.queue.settled(lost.jobId);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('DEVICE_LOST');
    expect(failed.error?.message).toMatch(/device lost.*engine restarts/);
    const rec = await h.history.getGeneration(lost.generationId);
    expect(rec.status).toBe('failed');
    expect(rec.error?.code).toBe('DEVICE_LOST');
    expect(existsSync(join(h.dataDir, 'outputs', String(lost.generationId)))).toBe(false);

    // The queue goes on: the job behind it runs, on a fresh worker (the lost one exits after reporting).
    expect((await h.queue.settled(next.jobId)).status).toBe('done');
    expect((await h.engine.request('ping', {})).pid).not.toBe(pid);
    expect((await h.history.getGeneration(earlier.generationId)).status).toBe('done');
    expect((await h.history.getGeneration(next.generationId)).status).toBe('done');
  });
});
