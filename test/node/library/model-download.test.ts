/** The model downloader against a local HTTP server on 127.0.0.1 (never the internet). */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadModel } from '../../../src/main/services/model-download';
import { rejection } from '../refusal';
import { tempDataDir } from '../store/helpers';

const BODY = randomBytes(300_000);
const SHA = createHash('sha256').update(BODY).digest('hex');

describe('downloadModel', () => {
  let server: Server;
  let base: string;
  let flakyServed = 0;
  const ranges: (string | undefined)[] = [];
  let dir: string;
  let cleanup: () => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      ranges.push(req.headers.range);
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const from = m ? Number(m[1]) : 0;
      if (req.url === '/missing') return res.writeHead(404).end('no');
      if (req.url === '/slow') {
        res.writeHead(200, { 'Content-Length': BODY.length });
        res.write(BODY.subarray(0, 1000));
        return; // then nothing: a stalled server
      }
      if (req.url === '/flaky' && flakyServed++ === 0) {
        // First answer: half the file, then the connection drops.
        res.writeHead(200, { 'Content-Length': BODY.length });
        // Ended with a FIN, not a reset: a reset may discard bytes the client has not read yet (a flaky test).
        res.write(BODY.subarray(0, 120_000), () => res.socket?.end());
        return;
      }
      if (from >= BODY.length) return res.writeHead(416).end();
      res.writeHead(m ? 206 : 200, { 'Content-Length': BODY.length - from, ...(m ? { 'Content-Range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` } : {}) });
      res.end(BODY.subarray(from));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => ({ dir, cleanup } = tempDataDir('download-')));
  afterEach(() => {
    server.closeAllConnections();
    cleanup();
  });

  it('downloads with progress and the SHA-256 checked', async () => {
    const seen: number[] = [];
    const r = await downloadModel({ url: `${base}/file`, dest: join(dir, 'm', 'a.safetensors'), sha256: SHA }, { onProgress: (p) => seen.push(p.received) });
    expect(r).toEqual({ path: join(dir, 'm', 'a.safetensors'), sha256: SHA, bytes: BODY.length });
    expect(readFileSync(r.path).equals(BODY)).toBe(true);
    expect(seen.at(-1)).toBe(BODY.length);
    expect(existsSync(`${r.path}.part`)).toBe(false);
  });

  it('an interrupted download keeps its part and resumes with a Range request', async () => {
    const dest = join(dir, 'b.ckpt');
    const e = await rejection(downloadModel({ url: `${base}/flaky`, dest, sha256: SHA }));
    expect(e.code).toBe('DOWNLOAD_FAILED');
    expect(e.message).toMatch(/try again to resume/);
    const kept = statSync(`${dest}.part`).size;
    expect(kept).toBeGreaterThan(0);
    // Every byte received before the break is on disk (the part was once destroyed with writes still pending).
    expect(kept).toBe((e.details as { received: number }).received);
    expect(kept).toBeLessThan(BODY.length);
    ranges.length = 0;
    const r = await downloadModel({ url: `${base}/flaky`, dest, sha256: SHA });
    expect(ranges).toEqual([`bytes=${kept}-`]);
    expect(readFileSync(r.path).equals(BODY)).toBe(true);
  });

  it('a wrong hash removes the download and says so', async () => {
    const dest = join(dir, 'c.safetensors');
    const e = await rejection(downloadModel({ url: `${base}/file`, dest, sha256: 'f'.repeat(64) }));
    expect(e.code).toBe('HASH_MISMATCH');
    expect(e.details).toMatchObject({ got: SHA });
    expect(existsSync(dest) || existsSync(`${dest}.part`)).toBe(false);
  });

  it('404 is refused with the address; nothing is left', async () => {
    const dest = join(dir, 'd.safetensors');
    const e = await rejection(downloadModel({ url: `${base}/missing`, dest }));
    expect(e).toMatchObject({ code: 'DOWNLOAD_FAILED', details: { status: 404 } });
    expect(e.message).toMatch(/404/);
    expect(existsSync(dest)).toBe(false);
  });

  it('a stalled server fails after the idle limit; cancel stops a download and keeps the part', async () => {
    const stalled = await rejection(downloadModel({ url: `${base}/slow`, dest: join(dir, 'e.safetensors') }, { idleMs: 300 }));
    expect(stalled.code).toBe('DOWNLOAD_FAILED');
    expect(stalled.message).toMatch(/stopped sending/);
    const ac = new AbortController();
    const cancelled = await rejection(downloadModel({ url: `${base}/slow`, dest: join(dir, 'f.safetensors') }, {
        signal: ac.signal,
        // Cancel once the received bytes are on disk (what a resume would continue from).
        onProgress: () => {
          const t = setInterval(() => {
            if ((statSync(join(dir, 'f.safetensors.part'), { throwIfNoEntry: false })?.size ?? 0) >= 1000) {
              clearInterval(t);
              ac.abort();
            }
          }, 10);
        },
      }));
    expect(cancelled.code).toBe('CANCELLED');
    expect(statSync(join(dir, 'f.safetensors.part')).size).toBe(1000);
  });

  it.skipIf(!existsSync('/dev/full'))('a full disk is DISK_FULL (the part written to /dev/full)', async () => {
    const dest = join(dir, 'g.safetensors');
    symlinkSync('/dev/full', `${dest}.part`);
    // The part "exists" with size 0, so the request starts from the beginning and the first write fails.
    const e = await rejection(downloadModel({ url: `${base}/file`, dest }));
    expect(e.code).toBe('DISK_FULL');
  });
});
