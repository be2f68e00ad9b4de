/**
 * The services object behind both transports, with the real engine worker (run from source under tsx) and the real
 * store in a temporary data folder: engine info comes from onnxruntime inside the worker, every call is validated,
 * and store-backed calls work end to end. (Generation itself is tested with the generation service.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type EngineInfo, type EngineStatus } from '../../../src/shared/api';
import type { ImportResult, LibraryItem } from '../../../src/shared/domain/library';
import type { Timeline } from '../../../src/shared/domain/timeline';
import { DEFAULT_SETTINGS, createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';
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

  it('implements every method of the contract', () => {
    for (const method of API_METHODS) expect(typeof services[method], method).toBe('function');
  });

  it('serves the library, history, timelines and export from the store in the data folder', async () => {
    const call = async (method: string, ...args: unknown[]) => {
      const r = await invokeApi(services, method, args);
      if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
      return r.value;
    };
    expect(await call('listLoras')).toEqual([]);
    expect(await call('listGenerations')).toMatchObject({ items: [], total: 0 });
    expect(await invokeApi(services, 'getGeneration', [999])).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await invokeApi(services, 'exportClip', [999, { format: 'mp4' }])).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    // No save dialog without a desktop shell: web mode names exports under exports/ instead.
    expect(await invokeApi(services, 'chooseExportPath', ['story', 'mp4'])).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/exports\//) } });
    services.setSavePicker(async (name, format) => `/picked/${name}.${format}`);
    expect(await call('chooseExportPath', 'story', 'gif')).toBe('/picked/story.gif');
    services.setSavePicker(undefined);

    const lora = join(__dirname, '..', '..', 'fixtures', 'reference', 'lora', 'lora_kohya.safetensors');
    const imported = (await call('importFile', lora)) as ImportResult;
    expect(imported.item.kind).toBe('lora');
    expect(imported.item.path).toBe(lora);
    expect(((await call('listLoras')) as LibraryItem[]).map((i) => i.id)).toEqual([imported.item.id]);

    const created = (await call('createTimeline', 'Trailer')) as Timeline;
    await call('renameTimeline', created.id, 'Final cut');
    expect(await call('listTimelines')).toMatchObject([{ id: created.id, name: 'Final cut', clipCount: 0 }]);
  });

  it('keeps settings in the database, over defaults, with the data folder reported', async () => {
    expect(await invokeApi(services, 'getSettings', [])).toEqual({ ok: true, value: { ...DEFAULT_SETTINGS, dataDir } });
    const updated = await invokeApi(services, 'updateSettings', [{ threads: 4, defaultParams: { steps: 8 } }]);
    expect(updated).toMatchObject({ ok: true, value: { threads: 4, defaultParams: { steps: 8 }, providers: DEFAULT_SETTINGS.providers } });
    expect(await invokeApi(services, 'updateSettings', [{ defaultParams: { steps: 0 } }])).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    // A second studio on the same folder sees them (they are stored, not held in memory).
    const again = createStudioServices({ dataDir, mode: 'web' });
    expect(await invokeApi(again, 'getSettings', [])).toMatchObject({ ok: true, value: { threads: 4 } });
    await again.close();
  });
});
