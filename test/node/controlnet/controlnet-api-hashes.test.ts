import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ExportProgressEvent, ExportRef, JobRef, JobStateEvent } from '../../../src/shared/api';
import { readEmbeddedParams } from '../../../src/main/export/embedded-params';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { encodePng } from '../../../src/main/formats/png';
import { starterModel, STARTER_UNET } from '../../../src/main/engine/starter/starter-model';
import { createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';
import { tinyParams } from '../generation/helpers';
import { writeStarterFiles } from '../pipeline/starter-files';
import { writeTestControlNet } from './test-controlnet-file';

/**
 * The API path records each ControlNet unit's file and input hashes in the history record's params, as the CLI
 * does (the same function, run in the engine worker here), so a clip's record and its exports say exactly which
 * ControlNet and which conditioning input made it.
 */

let root: string;
let services: StudioServices;
const events: { event: ApiEvent; payload: unknown }[] = [];
let files: { model: string; motion: string };
let cn: string;
let image: string;
const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'controlnet-api-'));
  files = writeStarterFiles(root);
  cn = writeTestControlNet(join(root, 'cn'), starterModel().unet, STARTER_UNET);
  const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => ((i * 37) % 251 > 120 ? 240 : 10));
  image = join(root, 'control.png');
  writeFileSync(image, encodePng(rgb, 64, 64));
  services = createStudioServices({ dataDir: join(root, 'data'), mode: 'electron' });
  services.subscribe((event, payload) => events.push({ event, payload }));
});
afterAll(async () => {
  await services.close();
  rmSync(root, { recursive: true, force: true });
});

async function call<T>(method: string, ...args: unknown[]): Promise<T> {
  const r = await invokeApi(services, method, args);
  if (!r.ok) throw new Error(`${method}: ${r.error.code} ${r.error.message}`);
  return r.value as T;
}

describe('ControlNet hashes through the API', () => {
  it('a generated clip records each unit’s ControlNet file hash and conditioning-input hash; its export embeds them', async () => {
    const unit = { model: cn, control: image, scale: 0.9, start: 0, end: 1, preprocess: 'canny' as const };
    const { jobId } = await call<JobRef>('generate', tinyParams({ model: files.model, motion: files.motion, frames: 2, controlNets: [unit, { ...unit, control: join(root, 'missing.png'), enabled: false }] }));
    const end = Date.now() + 120_000;
    const state = (): JobStateEvent | undefined =>
      events.filter((e) => e.event === 'onJobState' && (e.payload as JobStateEvent).jobId === jobId).map((e) => e.payload as JobStateEvent).find((s) => s.status === 'done' || s.status === 'failed');
    while (!state()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(state()!.status, JSON.stringify(state())).toBe('done');
    const rec = await call<GenerationRecord>('getGeneration', state()!.generationId);
    const units = rec.params.controlNets!;
    expect(units).toHaveLength(2);
    expect(units[0].modelSha256).toBe(sha(cn));
    expect(units[0].controlSha256).toBe(sha(image));
    // A switched-off unit (its input missing here) is kept as sent, unhashed, and does not stop the run.
    expect(units[1]).toEqual({ ...unit, control: join(root, 'missing.png'), enabled: false });

    // The export embeds the record's params: the hashes travel with the clip.
    const { exportId } = await call<ExportRef>('exportClip', rec.id, { format: 'gif' });
    const done = (): ExportProgressEvent | undefined =>
      events.map((e) => e.payload as ExportProgressEvent).find((e) => e.exportId === exportId && (e.status === 'done' || e.status === 'failed'));
    while (!done()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(done()!.status, JSON.stringify(done())).toBe('done');
    const back = await readEmbeddedParams(done()!.outputPath!);
    expect(back.params?.controlNets?.map((u) => [u.modelSha256, u.controlSha256])).toEqual([
      [sha(cn), sha(image)],
      [undefined, undefined],
    ]);
  }, 180_000);

  it('a unit whose input cannot give the clip its frames is refused before anything is recorded, as on the CLI', async () => {
    const bad = join(root, 'corrupt.png');
    writeFileSync(bad, 'not a png');
    const before = (await call<{ total: number }>('listGenerations', {})).total;
    const unit = { model: cn, control: bad, scale: 1, start: 0, end: 1, preprocess: 'none' as const };
    const r = await invokeApi(services, 'generate', [tinyParams({ model: files.model, motion: files.motion, controlNets: [{ ...unit, control: image }, unit] })]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/^ControlNet unit 2: .*corrupt\.png/);
    expect((await call<{ total: number }>('listGenerations', {})).total).toBe(before);
  }, 60_000);
});
