/**
 * A media file removed while its request is being served (a generation deleted as its clip loads): that response
 * fails, the server does not. The delete races the request, so the race is run many times.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStudioServices, type StudioServices } from '../../../src/main/services/studio-services';
import { dataLayout } from '../../../src/main/store/layout';
import { startWebServer, type WebServer } from '../../../src/main/web/server';

describe('media removed mid-request', () => {
  let root: string;
  let services: StudioServices;
  let server: WebServer;
  let outputs: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'animatelcm-media-race-'));
    mkdirSync(join(root, 'renderer'));
    writeFileSync(join(root, 'renderer', 'index.html'), '<!doctype html>');
    outputs = dataLayout(join(root, 'data')).outputs;
    mkdirSync(outputs, { recursive: true });
    services = createStudioServices({ dataDir: join(root, 'data'), mode: 'web' });
    server = await startWebServer({ services, rendererDir: join(root, 'renderer') });
  });
  afterAll(async () => {
    await server.close();
    await services.close();
    rmSync(root, { recursive: true, force: true });
  });

  const status = (path: string) =>
    new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(-1));
      });
      req.on('error', () => resolve(-1));
      req.end();
    });

  it('answers or drops that one response, and keeps serving', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const file = join(outputs, `clip-${i}.mp4`);
      writeFileSync(file, Buffer.alloc(64 * 1024, i));
      const pending = status(`/media/${encodeURIComponent(file)}?token=${server.token}`);
      // Removed after a varying delay, so some removals land between the server's checks and its read.
      const removed = new Promise<void>((r) => setTimeout(() => r(unlinkSync(file)), i % 7));
      const [code] = await Promise.all([pending, removed]);
      seen.add(code);
    }
    // Served whole, or not found; never a hung or half-sent response.
    expect([...seen].every((c) => c === 200 || c === 404)).toBe(true);
    expect(await status(`/?token=${server.token}`)).toBe(200);
  });
});
