import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiEvent, JobRef, JobStateEvent, JobSummary } from '../../../src/shared/api';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { createStudioServices, invokeApi } from '../../../src/main/services/studio-services';
import { tinyParams } from './helpers';

// The queue as the renderer reaches it: through invokeApi (validation + serialised errors) and the event sink.
const dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-generation-api-'));
const services = createStudioServices({ dataDir, mode: 'web' });
const events: { event: ApiEvent; payload: unknown }[] = [];
services.subscribe((event, payload) => events.push({ event, payload }));

afterAll(async () => {
  await services.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const r = await invokeApi(services, method, args);
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.value as T;
}

function stateEvents(jobId: string): JobStateEvent[] {
  return events.flatMap((e) => (e.event === 'onJobState' && (e.payload as JobStateEvent).jobId === jobId ? [e.payload as JobStateEvent] : []));
}

async function until(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('StudioApi generation methods', () => {
  it('generate → events → history; rerunExact queues; cancelJob and listJobs; unknown jobs are NOT_FOUND', async () => {
    const { jobId } = await call<JobRef>('generate', tinyParams({ seed: 7 }));
    await until(() => stateEvents(jobId).some((e) => e.status === 'done'));
    const done = stateEvents(jobId).at(-1)!;
    expect(done.generationId).not.toBeNull();
    expect(events.some((e) => e.event === 'onJobProgress' && (e.payload as { jobId: string; preview?: unknown }).preview !== undefined)).toBe(true);
    const rec = await call<GenerationRecord>('getGeneration', done.generationId);
    expect(rec).toMatchObject({ status: 'done', outputs: { frameCount: 2 } });

    // Re-run through the API, then cancel it (queued or running, it ends cancelled).
    const rerun = await call<JobRef>('rerunExact', done.generationId);
    const listed = await call<JobSummary[]>('listJobs');
    expect(listed.map((j) => j.jobId)).toEqual([jobId, rerun.jobId]);
    expect(listed[0]).toMatchObject({ status: 'done', generationId: done.generationId });
    expect(listed[0].progress?.preview).toBeUndefined();
    await call('cancelJob', rerun.jobId);
    await until(() => stateEvents(rerun.jobId).some((e) => e.status === 'cancelled' || e.status === 'done'));
    const last = stateEvents(rerun.jobId).at(-1)!;
    // A 64×64 two-step job can finish before the cancel lands; either way the history agrees with the event.
    expect((await call<GenerationRecord>('getGeneration', last.generationId)).status).toBe(last.status);

    const bad = await invokeApi(services, 'cancelJob', ['no-such-job']);
    expect(bad).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const invalid = await invokeApi(services, 'generate', [{ prompt: 'x' }]);
    expect(invalid.ok).toBe(false);
  });
});
