/**
 * Prompts of the API's maximum length (20,000 characters) in every shape people paste, through invokeApi (the
 * renderer's way in: validation, queue, engine worker, history). The CLI's side is long-prompt-cli.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobRef, JobStateEvent } from '../../../src/shared/api';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { createStudioServices, invokeApi } from '../../../src/main/services/studio-services';
import { LONG_PROMPTS } from '../pipeline/long-prompts';
import { frameFiles, tinyParams } from './helpers';

const dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-long-prompt-'));
const services = createStudioServices({ dataDir, mode: 'web' });
const finished = new Map<string, JobStateEvent>();
services.subscribe((event, payload) => {
  const e = payload as JobStateEvent;
  if (event === 'onJobState' && ['done', 'failed', 'cancelled'].includes(e.status)) finished.set(e.jobId, e);
});

afterAll(async () => {
  await services.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function settled(jobId: string): Promise<JobStateEvent> {
  const end = Date.now() + 120_000;
  while (!finished.has(jobId)) {
    if (Date.now() > end) throw new Error(`job ${jobId} did not finish`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return finished.get(jobId)!;
}

describe('StudioApi generate with 20,000-character prompts', () => {
  it.each(LONG_PROMPTS.filter((p) => p.prompt.length <= 20_000))('$name: a finished clip whose record keeps the whole prompt', async ({ prompt, weighting }) => {
    const r = await invokeApi(services, 'generate', [tinyParams({ prompt, steps: 1, ...(weighting ? { weighting } : {}) })]);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    const state = await settled((r.value as JobRef).jobId);
    expect(state.error?.message ?? '').toBe('');
    expect(state.status).toBe('done');
    const rec = await invokeApi(services, 'getGeneration', [state.generationId]);
    if (!rec.ok) throw new Error(rec.error.message);
    const record = rec.value as GenerationRecord;
    expect(record.params.prompt).toBe(prompt);
    expect(frameFiles(record.outputs!.framesDir!)).toHaveLength(2);
  });

  it('says what is wrong with a prompt over 20,000 characters', async () => {
    const r = await invokeApi(services, 'generate', [tinyParams({ prompt: 'a'.repeat(20_001) })]);
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    if (!r.ok) expect(r.error.message).toMatch(/prompt/);
  });
});
