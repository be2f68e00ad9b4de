/**
 * Two custom protocols. `app://studio/…` serves the built renderer, so the page has a real origin that the CSP's
 * 'self', the IPC sender check and navigation rules can name (file:// would make every local file same-origin).
 * `studio-media://media/<encoded absolute path>` serves frames, clips and previews, limited to the studio's own
 * folders (services/media-access.ts).
 */
import { net, protocol } from 'electron';
import { extname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MEDIA_PROTOCOL } from '../../shared/api';
import { resolveMediaFile } from '../services/media-access';
import { RENDERER_CSP } from '../../shared/csp';

export const APP_PROTOCOL = 'app';
export const APP_ORIGIN = `${APP_PROTOCOL}://studio`;

/** Must run before the app is ready. */
export function registerSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true } },
    { scheme: MEDIA_PROTOCOL, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

const notFound = () => new Response('Not found', { status: 404 });

export function handleProtocols(rendererDir: string, mediaRoots: () => string[]): void {
  const root = resolve(rendererDir);
  protocol.handle(APP_PROTOCOL, async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'studio') return notFound();
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = resolve(root, rel);
    const type = TYPES[extname(file).toLowerCase()];
    if (!file.startsWith(root + sep) || !type) return notFound();
    const res = await net.fetch(pathToFileURL(file).href);
    if (!res.ok) return notFound();
    return new Response(res.body, {
      status: 200,
      headers: { 'Content-Type': type, 'Content-Security-Policy': RENDERER_CSP, 'X-Content-Type-Options': 'nosniff' },
    });
  });
  protocol.handle(MEDIA_PROTOCOL, async (req) => {
    const url = new URL(req.url);
    if (url.host !== 'media') return notFound();
    try {
      const media = await resolveMediaFile(mediaRoots(), decodeURIComponent(url.pathname.slice(1)));
      return net.fetch(pathToFileURL(media.path).href, { headers: req.headers });
    } catch {
      return notFound();
    }
  });
}
