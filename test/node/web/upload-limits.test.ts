/**
 * Uploads over web mode's socket stay bounded: a flood of beginUpload on one connection gets its allowance and then
 * a typed error naming the limit; other connections keep theirs; when a socket closes its partial uploads go, files
 * and descriptors both (counted in /proc/self/fd), and valid imports on other sockets still work.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_UPLOADS_PER_CLIENT } from '../../../src/main/services/upload-service';
import type { WebServer } from '../../../src/main/web/server';
import type { ApiResult, WireMessage } from '../../../src/shared/api';
import { startWebStudio, until, type WebStudio } from './web-studio';

const LORA = 'test/fixtures/reference/lora/lora_kohya.safetensors';
const openDescriptors = () => readdirSync('/proc/self/fd').length;

/** A page's socket: `call` sends one request and resolves with its result. */
class Page {
  private nextId = 1;
  private readonly waiting = new Map<number, (r: ApiResult<unknown>) => void>();
  readonly closed: Promise<void>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d)) as WireMessage;
      if (msg.type === 'result') this.waiting.get(msg.id)?.(msg.result);
    });
    this.closed = new Promise((r) => ws.once('close', () => r()));
  }
  static open(server: WebServer): Promise<Page> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
      ws.once('open', () => resolve(new Page(ws)));
      ws.once('error', reject);
    });
  }
  call(method: string, ...args: unknown[]): Promise<ApiResult<unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, args }));
    });
  }
}

const uploadIdOf = (r: ApiResult<unknown>) => (r as { ok: true; value: { uploadId: string } }).value.uploadId;

describe('uploads over the web socket', () => {
  let studio: WebStudio;
  let server: WebServer;
  beforeAll(async () => {
    studio = await startWebStudio('animatelcm-web-upload-');
    server = studio.server;
  });
  afterAll(() => studio.close());

  const uploadFolders = () => readdirSync(join(studio.dataDir, 'uploads'));

  it('bounds a flood on one socket, releases its files and descriptors when it closes, and imports still work', async () => {
    const flooder = await Page.open(server);
    const other = await Page.open(server);
    expect((await other.call('listModels')).ok).toBe(true); // the database is open: its descriptors are in the baseline
    const before = openDescriptors();

    const FLOOD = 50;
    const results = await Promise.all(Array.from({ length: FLOOD }, (_, i) => flooder.call('beginUpload', `flood-${i}.safetensors`, 1024)));
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(MAX_UPLOADS_PER_CLIENT);
    expect(refused).toHaveLength(FLOOD - MAX_UPLOADS_PER_CLIENT);
    for (const r of refused)
      expect(r).toMatchObject({ ok: false, error: { code: 'LIMIT_EXCEEDED', message: expect.stringContaining(`at most ${MAX_UPLOADS_PER_CLIENT} uploads`), details: { limit: MAX_UPLOADS_PER_CLIENT } } });
    // Each accepted upload gets part of its bytes, then the page goes away mid-upload.
    for (const r of accepted) expect(await flooder.call('uploadChunk', uploadIdOf(r), 0, Buffer.alloc(100, 7).toString('base64'))).toMatchObject({ ok: true });
    expect(uploadFolders()).toHaveLength(MAX_UPLOADS_PER_CLIENT);
    expect(openDescriptors()).toBeLessThan(before + MAX_UPLOADS_PER_CLIENT);

    flooder.ws.close();
    await flooder.closed;
    await until(() => uploadFolders().length === 0);
    expect(openDescriptors()).toBeLessThanOrEqual(before);

    // The other page's upload and import are unaffected.
    const lora = readFileSync(LORA);
    const begun = await other.call('beginUpload', 'lora_kohya.safetensors', lora.length);
    expect(begun.ok).toBe(true);
    expect(await other.call('uploadChunk', uploadIdOf(begun), 0, lora.toString('base64'))).toMatchObject({ ok: true });
    expect(await other.call('finishUpload', uploadIdOf(begun))).toMatchObject({ ok: true, value: { item: { kind: 'lora', storage: 'copy' } } });
    expect(uploadFolders()).toEqual([]);
    other.ws.close();
    await other.closed;
  });

  it('the largest chunk the contract allows fits in one message', async () => {
    const page = await Page.open(server);
    const begun = await page.call('beginUpload', 'big.bin', 8 * 1024 * 1024);
    expect(begun.ok).toBe(true);
    const { chunkBytes } = (begun as { ok: true; value: { chunkBytes: number } }).value;
    expect(await page.call('uploadChunk', uploadIdOf(begun), 0, Buffer.alloc(chunkBytes, 1).toString('base64'))).toMatchObject({ ok: true });
    page.ws.close();
    await page.closed;
    await until(() => uploadFolders().length === 0);
  });
});
