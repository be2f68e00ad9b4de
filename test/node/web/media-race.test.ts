/**
 * A media file removed while its request is being served (a generation deleted as its clip loads): that response
 * fails, the server does not. The delete races the request, so the race is run many times.
 */
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataLayout } from '../../../src/main/store/layout';
import type { WebServer } from '../../../src/main/web/server';
import { startWebStudio, type WebStudio } from './web-studio';

describe('media removed mid-request', () => {
  let studio: WebStudio;
  let server: WebServer;
  let outputs: string;
  beforeAll(async () => {
    studio = await startWebStudio('animatelcm-media-race-');
    server = studio.server;
    outputs = dataLayout(studio.dataDir).outputs;
    mkdirSync(outputs, { recursive: true });
  });
  afterAll(() => studio.close());

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
