/**
 * One model file over HTTP(S) into the models folder: resumable (a `<dest>.part` is continued with a Range request),
 * progress, cancel (AbortSignal), an idle limit for stalled servers, and the SHA-256 checked where it is published.
 * Only when the bytes are complete (and match) is the part renamed to its name. Never follows a redirect to
 * anything but http(s).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname } from 'node:path';
import { StudioError, deserializeError, isStudioError, serializeError } from '../../shared/errors';

export interface DownloadRequest {
  url: string;
  dest: string;
  /** Lowercase hex, when published; checked before the file takes its name. */
  sha256?: string;
}

export interface DownloadProgress {
  received: number;
  /** Null when the server does not say. */
  total: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** No byte for this long → DOWNLOAD_FAILED (the part is kept to resume). Default 30 s. */
  idleMs?: number;
}

const MAX_REDIRECTS = 5;

function get(url: string, headers: Record<string, string>, signal: AbortSignal | undefined, redirects = 0): Promise<IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new StudioError('BAD_REQUEST', `Only http and https downloads are supported, not ${u.protocol}`, { url });
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { headers, signal }, (res) => {
      const loc = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && loc) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new StudioError('DOWNLOAD_FAILED', `Too many redirects downloading ${url}.`, { url }));
        get(new URL(loc, u).toString(), headers, signal, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Download `req.url` to `req.dest` (resuming `<dest>.part`). Resolves with the file's SHA-256. */
export async function downloadModel(req: DownloadRequest, opts: DownloadOptions = {}): Promise<{ path: string; sha256: string; bytes: number }> {
  const part = `${req.dest}.part`;
  await mkdir(dirname(req.dest), { recursive: true });
  const have = (await stat(part).catch(() => null))?.size ?? 0;
  const name = req.url.split('/').pop() ?? req.url;
  try {
    const res = await get(req.url, have > 0 ? { Range: `bytes=${have}-` } : {}, opts.signal);
    const code = res.statusCode ?? 0;
    let start = 0;
    if (code === 206) start = have;
    else if (code === 416 && have > 0) res.resume(); // the part is already complete: check it below
    else if (code !== 200) {
      res.resume();
      throw new StudioError('DOWNLOAD_FAILED', code === 404 ? `${name} is not at ${req.url} (404). The address may have changed.` : `The server answered ${code} for ${req.url}.`, { url: req.url, status: code });
    }
    if (code === 200 || code === 206) {
      const length = Number(res.headers['content-length']);
      const total = Number.isFinite(length) ? start + length : null;
      let received = start;
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
        let stalled: StudioError | null = null;
        const stall = () =>
          setTimeout(() => {
            stalled = new StudioError('DOWNLOAD_FAILED', `The server stopped sending ${name}; try again to resume.`, { url: req.url, received });
            res.destroy(stalled);
          }, opts.idleMs ?? 30_000);
        let idle = stall();
        let failed = false;
        // The response broke or stalled: every byte already received is what a retry resumes from, so the part
        // is ended (its buffered writes flushed) before the refusal, never destroyed with writes still pending.
        const fail = (e: unknown) => {
          if (failed) return;
          failed = true;
          clearTimeout(idle);
          res.unpipe(out);
          out.end(() => reject(stalled ?? e));
        };
        // The part itself cannot be written (disk full, permissions): nothing more to keep.
        const writeFailed = (e: unknown) => {
          if (failed) return;
          failed = true;
          clearTimeout(idle);
          res.destroy();
          out.destroy();
          reject(e);
        };
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          clearTimeout(idle);
          idle = stall();
          opts.onProgress?.({ received, total });
        });
        res.on('error', fail);
        out.on('error', writeFailed);
        res.on('aborted', () => fail(new StudioError('DOWNLOAD_FAILED', `The connection broke while downloading ${name}; try again to resume.`, { url: req.url, received })));
        res.pipe(out);
        out.on('finish', () => {
          if (failed) return;
          clearTimeout(idle);
          if (total !== null && received < total) reject(new StudioError('DOWNLOAD_FAILED', `The connection broke while downloading ${name}; try again to resume.`, { url: req.url, received, total }));
          else resolve();
        });
      });
    }
    const sha256 = await sha256Of(part);
    if (req.sha256 && sha256 !== req.sha256.toLowerCase()) {
      await rm(part, { force: true });
      throw new StudioError('HASH_MISMATCH', `${name} did not download correctly (its SHA-256 is not the published one); it was removed. Download it again.`, {
        url: req.url,
        expected: req.sha256.toLowerCase(),
        got: sha256,
      });
    }
    await rename(part, req.dest);
    return { path: req.dest, sha256, bytes: (await stat(req.dest)).size };
  } catch (e) {
    if (opts.signal?.aborted) throw new StudioError('CANCELLED', `Download of ${name} cancelled; the part is kept to resume.`, { url: req.url });
    throw isStudioError(e) ? e : deserializeError(serializeError(e));
  }
}
