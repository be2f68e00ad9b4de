/**
 * Uploads through the real services (what the web page's file picker and drag-and-drop use): a LoRA sent in
 * chunks lands in the library as a studio-owned copy with the same hash as the original; the temporary files
 * go; out-of-order or oversized chunks are refused without leaving anything behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeApi, createStudioServices, type StudioServices } from '../../../src/main/services/studio-services';

const LORA = 'test/fixtures/reference/lora/lora_kohya.safetensors';

describe('uploads into the library', () => {
  let dir: string;
  let services: StudioServices;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'animatelcm-upload-'));
    services = createStudioServices({ dataDir: dir, mode: 'web' });
  });
  afterEach(async () => {
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a file sent in chunks as a copy with the original’s hash, and cleans up', async () => {
    const bytes = readFileSync(LORA);
    const { uploadId, chunkBytes } = await services.beginUpload('lora_kohya.safetensors', bytes.length);
    expect(chunkBytes).toBeGreaterThan(0);
    // Small chunks so several are needed.
    const step = 16_384;
    for (let o = 0; o < bytes.length; o += step) await services.uploadChunk(uploadId, o, bytes.subarray(o, o + step).toString('base64'));
    const { item, existing } = await services.finishUpload(uploadId, { tags: ['uploaded'] });
    expect(existing).toBe(false);
    expect(item.kind).toBe('lora');
    expect(item.storage).toBe('copy');
    expect(item.tags).toEqual(['uploaded']);
    expect(item.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(readFileSync(item.path).equals(bytes)).toBe(true);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('refuses chunks out of order or beyond the announced size, and an unfinished upload', async () => {
    const { uploadId } = await services.beginUpload('x.safetensors', 8);
    await expect(services.uploadChunk(uploadId, 4, Buffer.from('abcd').toString('base64'))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await services.uploadChunk(uploadId, 0, Buffer.from('abcd').toString('base64'));
    await expect(services.finishUpload(uploadId)).rejects.toThrow(/incomplete \(4 of 8 bytes/);
    // finish discards the upload whatever happened
    await expect(services.uploadChunk(uploadId, 4, 'AAAA')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const big = await services.beginUpload('y.safetensors', 2);
    await expect(services.uploadChunk(big.uploadId, 0, Buffer.from('abc').toString('base64'))).rejects.toThrow(/larger than announced/);
    expect(readdirSync(join(dir, 'uploads'))).toEqual([]);
  });

  it('the wire contract rejects folder names and non-base64 chunks before the service sees them', async () => {
    const bad = await invokeApi(services, 'beginUpload', ['../evil.safetensors', 10]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const ok = await invokeApi(services, 'beginUpload', ['fine.safetensors', 10]);
    expect(ok.ok).toBe(true);
    const id = (ok as { ok: true; value: { uploadId: string } }).value.uploadId;
    const notB64 = await invokeApi(services, 'uploadChunk', [id, 0, 'not base64!']);
    expect(notB64).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(existsSync(join(dir, 'uploads', id, 'fine.safetensors'))).toBe(true);
  });
});
