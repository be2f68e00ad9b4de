/**
 * Web mode: the same StudioServices behind a localhost-only HTTP + WebSocket server, so the studio runs (and is
 * tested) in a plain browser. HTTP serves the built renderer bundle and media; the WebSocket at /api carries the
 * StudioApi (requests → invokeApi, events broadcast to every connected page).
 *
 * Every request — page, asset, media, socket — needs the per-launch token: from `?token=` on the first page load
 * (which also sets an HttpOnly, SameSite=Strict cookie so the bundle's own asset requests pass), then the cookie or
 * the query. Host and Origin are checked on every request (security.ts).
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { WEB_MEDIA_PATH, WEB_SOCKET_PATH, type WireMessage, type WireRequest } from '../../shared/api';
import { serializeError } from '../../shared/errors';
import { resolveMediaFile, type MediaFile } from '../services/media-access';
import { invokeApi, type StudioServices } from '../services/studio-services';
import { cookieName, hostAllowed, newToken, originAllowed, readCookie, securityHeaders, tokensEqual } from './security';

export interface WebServerOptions {
  services: StudioServices;
  /** The built renderer (out/renderer): index.html and assets/. */
  rendererDir: string;
  /** 0 = a free port chosen by the system. */
  port?: number;
  /** Default: a fresh random token. */
  token?: string;
}

export interface WebServer {
  port: number;
  token: string;
  origin: string;
  /** The URL to open: origin + token. */
  url: string;
  close(): Promise<void>;
}

const STATIC_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * The largest WebSocket message (one frame or a whole fragmented message) the server reads: room for an upload chunk
 * (UPLOAD_CHUNK_BYTES as base64 in its JSON envelope) or a LoRA preview data: URL, small enough that no page can
 * exhaust memory. A frame announcing more is refused from its header alone (close 1009) before its payload is read.
 */
export const WEB_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const token = opts.token ?? newToken();
  const rendererDir = resolve(opts.rendererDir);
  const services = opts.services;
  let port = 0;

  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: WEB_MAX_MESSAGE_BYTES });

  const authorised = (req: IncomingMessage, url: URL): 'query' | 'cookie' | null => {
    if (tokensEqual(url.searchParams.get('token'), token)) return 'query';
    if (tokensEqual(readCookie(req, cookieName(port)), token)) return 'cookie';
    return null;
  };

  const refuse = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { ...securityHeaders(port), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(message + '\n');
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, serializeError(e).message);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req, port)) return refuse(res, 421, 'This server answers only to 127.0.0.1 and localhost.');
    if (!originAllowed(req, port, false)) return refuse(res, 403, 'Requests from other sites are refused.');
    const url = requestUrl(req, port);
    if (!url) return refuse(res, 400, 'The request target is not a valid address.');
    const auth = authorised(req, url);
    if (!auth) return refuse(res, 401, 'Missing or wrong token: open the URL the studio printed when it started.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET is served here.');

    const headers: Record<string, string> = securityHeaders(port);
    if (auth === 'query') headers['Set-Cookie'] = `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;

    if (url.pathname.startsWith(WEB_MEDIA_PATH)) return serveMedia(req, res, url, headers);
    if (url.pathname === WEB_SOCKET_PATH) return refuse(res, 426, 'Connect with a WebSocket.');

    const rel = url.pathname === '/' ? 'index.html' : decodePath(url.pathname.slice(1));
    if (rel === undefined) return refuse(res, 400, 'The address is not valid percent-encoding.');
    const file = resolve(rendererDir, rel);
    if (!file.startsWith(rendererDir + sep) || rel.includes('\0')) return refuse(res, 404, 'Not found.');
    const type = STATIC_TYPES[extname(file).toLowerCase()];
    const info = type ? await stat(file).catch(() => null) : null;
    if (!type || !info?.isFile()) return refuse(res, 404, 'Not found.');
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** /media/<url-encoded absolute path>, limited to the studio's folders; single byte ranges for video seeking. */
  async function serveMedia(req: IncomingMessage, res: ServerResponse, url: URL, headers: Record<string, string>): Promise<void> {
    const requested = decodePath(url.pathname.slice(WEB_MEDIA_PATH.length));
    if (requested === undefined) return refuse(res, 400, 'The address is not valid percent-encoding.');
    let media: MediaFile;
    let file: FileHandle;
    try {
      media = await resolveMediaFile(services.mediaRoots(), requested);
      // Opened before answering: a file removed meanwhile (its generation deleted) is a 404, and once open it
      // stays readable to the end of the response even if it is removed.
      file = await open(media.path, 'r');
    } catch {
      return refuse(res, 404, 'Not found.');
    }
    try {
      // The size of what was opened, in case the file changed since it was checked.
      await sendMedia(req, res, { ...media, size: (await file.stat()).size }, file, headers);
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  async function sendMedia(req: IncomingMessage, res: ServerResponse, media: MediaFile, file: FileHandle, headers: Record<string, string>): Promise<void> {
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = media.size - 1;
    let status = 200;
    if (range && (range[1] || range[2])) {
      start = range[1] ? Number(range[1]) : Math.max(0, media.size - Number(range[2]));
      end = range[1] && range[2] ? Math.min(Number(range[2]), media.size - 1) : media.size - 1;
      if (start > end || start >= media.size) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${media.size}` });
        return void res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${media.size}`;
    }
    res.writeHead(status, { ...headers, 'Content-Type': media.contentType, 'Content-Length': String(end - start + 1), 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD' || media.size === 0) return void res.end();
    // pipeline, not pipe: a read error or a client that goes away ends this response, never the process.
    await pipeline(file.createReadStream({ start, end, autoClose: false }), res).catch(() => res.destroy());
  }

  server.on('upgrade', (req, socket, head) => {
    // Node hands the raw socket over with no error listener: a reset during the handshake would otherwise throw.
    socket.on('error', () => socket.destroy());
    const deny = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = requestUrl(req, port);
    if (!url) return deny(400, 'Bad Request');
    if (!hostAllowed(req, port)) return deny(421, 'Misdirected Request');
    if (!originAllowed(req, port, true)) return deny(403, 'Forbidden');
    if (url.pathname !== WEB_SOCKET_PATH) return deny(404, 'Not Found');
    if (!authorised(req, url)) return deny(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });

  let nextClient = 1;

  function accept(ws: WebSocket): void {
    sockets.add(ws);
    // Each socket is one client: its uploads count against its own allowance and are discarded when it closes.
    const client = `socket-${nextClient++}`;
    const api = services.clientApi(client);
    // ws reports a protocol violation (bad UTF-8, reserved bits or opcodes, an unmasked or oversized frame) as
    // 'error' and then closes the socket itself; without a listener the error would end the whole process.
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      sockets.delete(ws);
      void services.releaseClient(client).catch(() => undefined);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'Text JSON messages only.');
      let req: WireRequest;
      try {
        req = JSON.parse(String(data)) as WireRequest;
      } catch {
        return ws.close(1007, 'Invalid JSON.');
      }
      if (typeof req !== 'object' || req === null || !Number.isSafeInteger(req.id)) return ws.close(1008, 'Request without an id.');
      void invokeApi(api, req.method, req.args).then((result) => send(ws, { type: 'result', id: req.id, result }));
    });
  }

  function send(ws: WebSocket, msg: WireMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
  }

  const unsubscribe = services.subscribe((event, payload) => {
    const msg: WireMessage = { type: 'event', event, payload };
    for (const ws of sockets) send(ws, msg);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: web mode is a local tool, never a network service.
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    token,
    origin,
    url: `${origin}/?token=${token}`,
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The request's target as a URL, or undefined when it is not one (the client's mistake: 400, never a throw). */
function requestUrl(req: IncomingMessage, port: number): URL | undefined {
  try {
    return new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  } catch {
    return undefined;
  }
}

/** A URL path segment decoded, or undefined when its percent-encoding is malformed (the client's mistake: 400). */
function decodePath(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/** Where the built renderer is, seen from this file in source (src/main/web) or in the bundle (out/main). */
export function defaultRendererDir(here: string): string[] {
  return [join(here, '..', 'renderer'), join(here, '..', '..', '..', 'out', 'renderer')];
}
