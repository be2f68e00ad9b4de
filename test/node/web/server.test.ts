/**
 * Web mode's server with real services: token and cookie handling, static files and media confined to their
 * folders, byte ranges, events pushed to every socket, malformed messages. (The browser-level checks — page,
 * Origin, rebinding — are in test/e2e.)
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataLayout } from '../../../src/main/store/layout';
import type { StudioServices } from '../../../src/main/services/studio-services';
import { main as webMain } from '../../../src/main/web/start';
import { startWebServer, type WebServer } from '../../../src/main/web/server';
import type { WireMessage } from '../../../src/shared/api';
import { startWebStudio, type WebStudio } from './web-studio';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(server: WebServer, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web mode server', () => {
  let studio: WebStudio;
  let root: string;
  let services: StudioServices;
  let server: WebServer;
  const clip = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  let mediaPath: string;

  beforeAll(async () => {
    studio = await startWebStudio('animatelcm-web-', (dirs) => {
      writeFileSync(join(dirs.rendererDir, 'assets', 'app.js'), 'console.log(1)');
      writeFileSync(join(dirs.root, 'secret.png'), 'not yours');
      const outputs = dataLayout(dirs.dataDir).outputs;
      mkdirSync(join(outputs, '1'), { recursive: true });
      mediaPath = join(outputs, '1', 'clip.mp4');
      writeFileSync(mediaPath, clip);
      writeFileSync(join(outputs, '1', 'notes.txt'), 'text');
      symlinkSync(join(dirs.root, 'secret.png'), join(outputs, '1', 'link.png'));
    });
    ({ root, services, server } = studio);
  });

  afterAll(() => studio.close());

  const t = () => `token=${server.token}`;
  const media = (p: string) => `/media/${encodeURIComponent(p)}?${t()}`;

  it('listens on 127.0.0.1 and prints a URL with a fresh random token', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const other = await startWebServer({ services, rendererDir: join(root, 'renderer') });
    expect(other.token).not.toBe(server.token);
    await other.close();
  });

  it('sets an HttpOnly SameSite=Strict cookie with the token, which then suffices', async () => {
    const first = await get(server, `/?${t()}`);
    expect(first.status).toBe(200);
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const pair = cookie.split(';')[0];
    expect((await get(server, '/assets/app.js', { Cookie: pair })).status).toBe(200);
    expect((await get(server, '/assets/app.js', { Cookie: pair.replace(/=.*/, '=wrong') })).status).toBe(401);
  });

  it('serves only GET and HEAD, and nothing outside the renderer folder', async () => {
    expect((await get(server, `/?${t()}`, {}, 'POST')).status).toBe(405);
    expect((await get(server, `/..%2fsecret.png?${t()}`)).status).toBe(404);
    expect((await get(server, `/%2e%2e/secret.png?${t()}`)).status).toBe(404);
    expect((await get(server, `/assets/missing.js?${t()}`)).status).toBe(404);
  });

  it('serves media from the studio folders, with byte ranges', async () => {
    const whole = await get(server, media(mediaPath));
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.body.equals(clip)).toBe(true);
    const part = await get(server, media(mediaPath), { Range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${clip.length}`);
    expect(part.body.equals(clip.subarray(100, 200))).toBe(true);
    expect((await get(server, media(mediaPath), { Range: 'bytes=5000-' })).status).toBe(416);
  });

  it('refuses media outside the studio folders, through links, or of other types', async () => {
    expect((await get(server, media(join(root, 'secret.png')))).status).toBe(404);
    expect((await get(server, media(join(dataLayout(join(root, 'data')).outputs, '1', 'link.png')))).status).toBe(404);
    expect((await get(server, media(join(dataLayout(join(root, 'data')).outputs, '1', 'notes.txt')))).status).toBe(404);
    expect((await get(server, media('relative/clip.mp4'))).status).toBe(404);
    expect((await get(server, `/media/${encodeURIComponent(mediaPath)}`)).status).toBe(401);
  });

  it('pushes service events to every connected socket and closes on malformed messages', async () => {
    const url = `ws://127.0.0.1:${server.port}/api?${t()}`;
    const open = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    const [a, b] = await Promise.all([open(), open()]);
    const next = (ws: WebSocket) => new Promise<WireMessage>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as WireMessage)));
    const got = Promise.all([next(a), next(b)]);
    services.emit('onJobState', { jobId: 'j1', status: 'running', generationId: null });
    for (const msg of await got) expect(msg).toEqual({ type: 'event', event: 'onJobState', payload: { jobId: 'j1', status: 'running', generationId: null } });

    const closed = new Promise<number>((resolve) => a.once('close', (code) => resolve(code)));
    a.send('{not json');
    expect(await closed).toBe(1007);
    b.close();
  });

  it('`npm run web` refuses a bad --port with a usage error', async () => {
    expect(await webMain(['--port', 'eighty'])).toBe(2);
  });
});
