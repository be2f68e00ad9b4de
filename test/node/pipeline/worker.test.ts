import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import type { GenerateJobParams, GenerateJobProgress, GenerateJobResult } from '../../../src/main/engine/generate-job';
import { EngineHost } from '../../../src/main/services/engine-host';

const root = mkdtempSync(join(tmpdir(), 'pipeline-worker-'));
const host = new EngineHost();
afterAll(async () => {
  await host.dispose();
  rmSync(root, { recursive: true, force: true });
});

const params: GenerationParams = { ...DEFAULT_PARAMS, prompt: 'neon city at night', width: 64, height: 64, frames: 4, steps: 3, seed: 11 };

describe('engine worker: generate job', () => {
  it('runs in the worker process, streaming compile, step and preview progress', async () => {
    const progress: GenerateJobProgress[] = [];
    const job = host.runJob<GenerateJobResult, GenerateJobProgress>(
      'generate',
      'gen-1',
      { params, outDir: join(root, 'out'), cacheRoot: join(root, 'cache') } satisfies GenerateJobParams,
      (p) => progress.push(p),
    );
    const r = await job.result;
    expect(r.frameCount).toBe(4);
    expect(readdirSync(r.outDir).filter((n) => n.endsWith('.png'))).toHaveLength(4);
    expect(progress.some((p) => p.stage === 'compile')).toBe(true);
    const steps = progress.filter((p) => p.stage === 'denoise');
    expect(steps.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(steps.every((p) => p.preview?.frames.length === 4)).toBe(true);
  });

  it('cancels from the host: the job ends CANCELLED and no output folder appears', async () => {
    const out = join(root, 'cancelled');
    let jobId = '';
    const job = host.runJob<GenerateJobResult, GenerateJobProgress>('generate', 'gen-2', { params: { ...params, steps: 6 }, outDir: out, cacheRoot: join(root, 'cache') }, (p) => {
      if (p.stage === 'denoise' && p.step === 1) host.cancelJob(jobId);
    });
    jobId = job.jobId;
    await expect(job.result).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });
});
