/**
 * Uploads through the real services (what the web page's file picker and drag-and-drop use): a LoRA sent in
 * chunks lands in the library as a studio-owned copy with the same hash as the original; the temporary files
 * go; out-of-order or oversized chunks are refused without leaving anything behind. Resources stay bounded: a
 * limited number of uploads per client, no file held open between chunks, idle uploads dropped, a failed begin
 * leaves nothing, and what a dead process left in uploads/ is swept at the next start.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { invokeApi, createStudioServices, type StudioServices } from '../../../src/main/services/studio-services';
import { MAX_UPLOADS_PER_CLIENT, UploadService } from '../../../src/main/services/upload-service';

/** Every file and folder under `dir`, relative to it ([] when `dir` is missing). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((p) => relative(dir, join(dir, p))).sort();
}

const openDescriptors = () => readdirSync('/proc/self/fd').length;

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
    expect(tree(join(dir, 'uploads'))).toEqual([]);
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
    expect(tree(join(dir, 'uploads'))).toEqual([]);
  });

  it('the wire contract rejects folder names and non-base64 chunks before the service sees them', async () => {
    const bad = await invokeApi(services, 'beginUpload', ['../evil.safetensors', 10]);
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const ok = await invokeApi(services, 'beginUpload', ['fine.safetensors', 10]);
    expect(ok.ok).toBe(true);
    const id = (ok as { ok: true; value: { uploadId: string } }).value.uploadId;
    const notB64 = await invokeApi(services, 'uploadChunk', [id, 0, 'not base64!']);
    expect(notB64).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(tree(join(dir, 'uploads')).filter((p) => p.endsWith('fine.safetensors'))).toHaveLength(1);
  });

  it(`bounds the uploads in progress per client at ${MAX_UPLOADS_PER_CLIENT}, with an error naming the limit`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX_UPLOADS_PER_CLIENT; i++) ids.push((await services.beginUpload(`f${i}.safetensors`, 4)).uploadId);
    const over = services.beginUpload('one-too-many.safetensors', 4);
    await expect(over).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: MAX_UPLOADS_PER_CLIENT } });
    await expect(over).rejects.toThrow(new RegExp(`at most ${MAX_UPLOADS_PER_CLIENT} uploads`));
    // The refused one left nothing behind.
    expect(tree(join(dir, 'uploads')).filter((p) => p.endsWith('one-too-many.safetensors'))).toEqual([]);
    // Another client has its own allowance; a finished upload frees a place.
    const other = services.clientApi('another page');
    const theirs = await other.beginUpload('theirs.safetensors', 4);
    await services.uploadChunk(ids[0], 0, Buffer.from('abcd').toString('base64'));
    await expect(services.finishUpload(ids[0])).rejects.toBeDefined(); // not a model file: the import refuses it
    await expect(services.beginUpload('again.safetensors', 4)).resolves.toMatchObject({ uploadId: expect.any(String) });
    // Releasing a client discards its uploads in progress, and only its own.
    await services.releaseClient('another page');
    await expect(services.uploadChunk(theirs.uploadId, 0, 'AAAA')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(tree(join(dir, 'uploads')).filter((p) => p.endsWith('theirs.safetensors'))).toEqual([]);
    expect(tree(join(dir, 'uploads')).filter((p) => p.endsWith('.safetensors'))).toHaveLength(MAX_UPLOADS_PER_CLIENT);
  });

  it('holds no file open between chunks', async () => {
    await services.listModels(); // opens the database first, so its descriptors are in the baseline
    const before = openDescriptors();
    for (let i = 0; i < MAX_UPLOADS_PER_CLIENT; i++) {
      const { uploadId } = await services.beginUpload(`f${i}.safetensors`, 8);
      await services.uploadChunk(uploadId, 0, Buffer.from('abcd').toString('base64'));
    }
    expect(openDescriptors()).toBeLessThanOrEqual(before);
  });

  it('a begin that fails leaves no folder behind and says why', async () => {
    // 260 bytes of UTF-8 in 134 characters: valid for the wire contract (255 characters), too long for the disk.
    const name = `${'é'.repeat(130)}.bin`;
    const r = await invokeApi(services, 'beginUpload', [name, 10]);
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/name is too long/) } });
    expect(tree(join(dir, 'uploads'))).toEqual([]);
  });

  it('sweeps what a dead process left in uploads/ at start, and leaves a live one’s alone', async () => {
    await services.close();
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const uploads = join(dir, 'uploads');
    const dead = join(uploads, `.tmp-${deadPid}-0badc0de-${randomUUID()}`);
    const legacy = join(uploads, randomUUID()); // the layout before uploads carried their owner
    const live = join(uploads, `.tmp-${process.ppid}-0badc0de-${randomUUID()}`);
    for (const d of [dead, legacy, live]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'half.safetensors'), 'partial');
    }
    services = createStudioServices({ dataDir: dir, mode: 'web' });
    await services.listModels(); // the first call opens the store, which is "start"
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(legacy)).toBe(false);
    expect(existsSync(join(live, 'half.safetensors'))).toBe(true);
  });
});

describe('idle uploads', () => {
  it('are dropped with their files after the idle time; each chunk restarts the clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'animatelcm-upload-idle-'));
    const uploads = new UploadService(join(dir, 'uploads'), () => Promise.reject(new Error('not used')), { idleMs: 300 });
    try {
      const { uploadId } = await uploads.begin('slow.safetensors', 8);
      for (const offset of [0, 2, 4]) {
        await new Promise((r) => setTimeout(r, 150));
        await uploads.chunk(uploadId, offset, Buffer.from('ab').toString('base64'));
      }
      expect(tree(join(dir, 'uploads')).filter((p) => p.endsWith('slow.safetensors'))).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 600));
      await expect(uploads.chunk(uploadId, 6, Buffer.from('ab').toString('base64'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(tree(join(dir, 'uploads'))).toEqual([]);
    } finally {
      await uploads.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
