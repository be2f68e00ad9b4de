/**
 * Malformed WebSocket frames sent by hand over a real TCP socket (hand-made upgrade, hand-made frames): each one
 * closes that socket only. The server keeps answering a page that was already connected, and a fresh connection
 * works. Also: a bad percent-encoding in a static or media URL is the client's mistake (400), not the server's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_MAX_MESSAGE_BYTES, type WebServer } from '../../../src/main/web/server';
import type { WireMessage } from '../../../src/shared/api';
import { startWebStudio, type WebStudio } from './web-studio';

/** A raw TCP connection that has completed the WebSocket handshake; `received` collects everything after it. */
interface RawSocket {
  socket: Socket;
  received: Buffer[];
  closed: Promise<void>;
}

function rawUpgrade(server: Pick<WebServer, 'port' | 'token'>): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    let head = Buffer.alloc(0);
    let upgraded = false;
    const closed = new Promise<void>((r) =>
      socket.once('close', () => {
        if (!upgraded) reject(new Error('the server closed the connection (or was not there) before the upgrade'));
        r();
      }),
    );
    socket.on('error', () => undefined); // a reset after the server drops us is expected; 'close' follows
    socket.on('data', (d: Buffer) => {
      if (upgraded) return void received.push(d);
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const status = head.subarray(0, end).toString('latin1').split('\r\n')[0];
      if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${status}`));
      upgraded = true;
      if (head.length > end + 4) received.push(head.subarray(end + 4));
      resolve({ socket, received, closed });
    });
    socket.once('connect', () => {
      socket.write(
        [
          `GET /api?token=${server.token} HTTP/1.1`,
          `Host: 127.0.0.1:${server.port}`,
          `Origin: http://127.0.0.1:${server.port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          '',
          '',
        ].join('\r\n'),
      );
    });
  });
}

/** One client frame: FIN + opcode (+ RSV bits in `first`), masked unless told otherwise (RFC 6455 §5.2). */
function frame(first: number, payload: Buffer, opts: { masked?: boolean; announcedLength?: number } = {}): Buffer {
  const masked = opts.masked ?? true;
  const len = opts.announcedLength ?? payload.length;
  const header: number[] = [first];
  const maskBit = masked ? 0x80 : 0;
  if (len < 126) header.push(maskBit | len);
  else if (len < 65536) header.push(maskBit | 126, len >> 8, len & 0xff);
  else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    header.push(maskBit | 127, ...big);
  }
  if (!masked) return Buffer.concat([Buffer.from(header), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from(header), mask, body]);
}

const FIN = 0x80;
const RSV1 = 0x40;
const TEXT = 0x1;

const badFrames: [string, () => Buffer][] = [
  ['a text frame with invalid UTF-8', () => frame(FIN | TEXT, Buffer.from([0xff, 0xfe, 0xfd, 0xfc]))],
  ['a frame with RSV1 set (no extension was negotiated)', () => frame(FIN | RSV1 | TEXT, Buffer.from('{}'))],
  ['a frame with the reserved opcode 3', () => frame(FIN | 0x3, Buffer.from('abcd'))],
  ['an unmasked client frame', () => frame(FIN | TEXT, Buffer.from('{"id":1}'), { masked: false })],
    // Only the header: the announced length alone must end the connection, before any payload is buffered.
  ['a frame announcing more than the message limit', () => frame(FIN | TEXT, Buffer.alloc(0), { announcedLength: WEB_MAX_MESSAGE_BYTES + 1 }).subarray(0, 14)],
];

describe('web mode survives malformed WebSocket frames', () => {
  let studio: WebStudio;
  let server: WebServer;
  let bystander: WebSocket;

  const openClient = () =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });

  /** A real request over a well-behaved socket: the server is still serving. */
  const ask = (ws: WebSocket, id: number) =>
    new Promise<WireMessage>((resolve) => {
      const onMessage = (d: WebSocket.RawData) => {
        const msg = JSON.parse(String(d)) as WireMessage;
        if (msg.type === 'result' && msg.id === id) {
          ws.off('message', onMessage);
          resolve(msg);
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method: 'listTimelines', args: [] }));
    });

  beforeAll(async () => {
    studio = await startWebStudio('animatelcm-frames-');
    server = studio.server;
    bystander = await openClient();
  });

  afterAll(async () => {
    bystander.close();
    await studio.close();
  });

  let nextId = 1;
  for (const [name, make] of badFrames) {
    it(`${name} closes only that socket`, async () => {
      const raw = await rawUpgrade(server);
      raw.socket.write(make());
      await raw.closed;
      // A close frame, when the server had time to send one, carries a protocol-error code.
      const reply = Buffer.concat(raw.received);
      if (reply.length >= 4 && reply[0] === 0x88) expect([1002, 1007, 1009]).toContain(reply.readUInt16BE(2));

      expect(bystander.readyState).toBe(WebSocket.OPEN);
      expect(await ask(bystander, nextId++)).toMatchObject({ type: 'result', result: { ok: true } });
      const fresh = await openClient();
      expect(await ask(fresh, nextId++)).toMatchObject({ type: 'result', result: { ok: true } });
      fresh.close();
    });
  }

  it('a well-formed message just under the limit is still read (the limit is where the docs say)', async () => {
    const ws = await openClient();
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    // Valid JSON, no id: the server reads it whole and closes with 1008 (not 1009, too big).
    ws.send(JSON.stringify({ pad: 'x'.repeat(WEB_MAX_MESSAGE_BYTES - 20) }));
    expect(await closed).toBe(1008);
  });

  it('a request target that is not a URL answers 400, for a plain request and for an upgrade', async () => {
    const statusLine = (target: string, upgrade: boolean) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1');
        let reply = '';
        socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(reply.split('\r\n')[0]));
        const lines = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, `Origin: http://127.0.0.1:${server.port}`, 'Connection: close'];
        if (upgrade) lines.push('Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13');
        socket.end([...lines, '', ''].join('\r\n'));
      });
    for (const target of ['//[', `http://[nope/api?token=${server.token}`]) {
      expect(await statusLine(target, false)).toMatch(/^HTTP\/1\.1 400 /);
      expect(await statusLine(target, true)).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(await ask(bystander, nextId++)).toMatchObject({ type: 'result', result: { ok: true } });
  });

  it('a bad percent-encoding in a static or media URL answers 400', async () => {
    const status = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`/assets/%E0%A4%A.js?token=${server.token}`)).toBe(400);
    expect(await status(`/%ZZ?token=${server.token}`)).toBe(400);
    expect(await status(`/media/%ZZ%2Fclip.mp4?token=${server.token}`)).toBe(400);
    expect(await status(`/media/%C0%AF.mp4?token=${server.token}`)).toBe(400);
    // The server is fine afterwards.
    expect(await status(`/?token=${server.token}`)).toBe(200);
  });
});

describe('`npm run web` as its own process', () => {
  it('keeps running and serving after every kind of malformed frame', async () => {
    const root = mkdtempSync(join(tmpdir(), 'animatelcm-frames-proc-'));
    const rendererDir = join(root, 'renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/web/start.ts', '--port', '0', '--data-dir', join(root, 'data'), '--renderer-dir', rendererDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const line = /^Open (\S+)$/m.exec(out);
          if (line) resolve(new URL(line[1]));
        });
        void exited.then((code) => reject(new Error(`web mode exited (${code}) before it printed its URL: ${stderr}`)));
      });
      const target = { port: Number(url.port), token: url.searchParams.get('token') ?? '' };
      for (const [, make] of badFrames) {
        const raw = await rawUpgrade(target);
        raw.socket.write(make());
        await raw.closed;
      }
      const alive = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 300))]);
      expect(alive, stderr).toBe(true);
      // And it still completes a fresh handshake.
      const fresh = await rawUpgrade(target);
      fresh.socket.end();
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(root, { recursive: true, force: true });
    }
  });
});
