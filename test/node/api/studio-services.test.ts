/**
 * The services object behind both transports, with the real engine worker (run from source under tsx): engine
 * info comes from onnxruntime inside the worker, every call is validated, and concepts whose service is not
 * wired answer a typed "not available yet" error rather than data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type EngineInfo, type EngineStatus } from '../../../src/shared/api';
import { createStudioServices, invokeApi, resolveDataDir, type StudioServices } from '../../../src/main/services/studio-services';
import { version } from '../../../package.json';

describe('StudioServices', () => {
  let dataDir: string;
  let services: StudioServices;
  const statuses: EngineStatus[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-services-'));
    services = createStudioServices({ dataDir, mode: 'web' });
    services.subscribe((event, payload) => {
      if (event === 'onEngineStatus') statuses.push(payload as EngineStatus);
    });
  });

  afterAll(async () => {
    await services.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers getEngineInfo from the engine worker with the real onnxruntime', async () => {
    const r = await invokeApi(services, 'getEngineInfo', []);
    expect(r.ok).toBe(true);
    const info = (r as { ok: true; value: EngineInfo }).value;
    const { default: ort } = await import('onnxruntime-node');
    expect(info.onnxruntimeVersion).toBe(ort.env.versions.node);
    expect(info.providers.find((p) => p.name === 'cpu')).toEqual({ name: 'cpu', usable: true });
    for (const p of info.providers.filter((x) => !x.usable)) expect(p.reason).toMatch(/\w/);
    expect(info.appVersion).toBe(version);
    expect(info.mode).toBe('web');
    // The worker started through the host's states and said so as events.
    expect(statuses.map((s) => s.state).slice(0, 2)).toEqual(['starting', 'ready']);
  });

  it('refuses unknown methods and invalid arguments without calling a service', async () => {
    for (const name of ['constructor', 'close', 'subscribe', '__proto__', 42]) {
      const r = await invokeApi(services, name, []);
      expect(r).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    expect(await invokeApi(services, 'getGeneration', [-3])).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('answers "not available yet" for every concept whose service is not wired, never data', async () => {
    const sample: Record<string, unknown[]> = { generate: [] };
    for (const method of API_METHODS) {
      if (method === 'getEngineInfo') continue;
      // Calls the service directly: argument validation is covered above.
      const fn = services[method] as (...a: unknown[]) => Promise<unknown>;
      const outcome = await fn.apply(services, sample[method] ?? []).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      if ('value' in outcome) continue; // wired to a real service
      expect(outcome.error, method).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/not available yet/) });
    }
  });

  it('resolves the data folder from the flag, then ANIMATELCM_DATA_DIR, then the fallback', () => {
    const saved = process.env.ANIMATELCM_DATA_DIR;
    try {
      process.env.ANIMATELCM_DATA_DIR = '/tmp/from-env';
      expect(resolveDataDir('/tmp/from-flag', '/tmp/fallback')).toBe('/tmp/from-flag');
      expect(resolveDataDir(undefined, '/tmp/fallback')).toBe('/tmp/from-env');
      delete process.env.ANIMATELCM_DATA_DIR;
      expect(resolveDataDir(undefined, '/tmp/fallback')).toBe('/tmp/fallback');
    } finally {
      if (saved === undefined) delete process.env.ANIMATELCM_DATA_DIR;
      else process.env.ANIMATELCM_DATA_DIR = saved;
    }
  });
});
