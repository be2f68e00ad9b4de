/**
 * The worker-side 'hash-files' job: full-file SHA-256 of the model, motion-module and LoRA files a generation
 * uses, for its history record. Multi-gigabyte checkpoints take seconds to hash, so this runs in the worker, not
 * on main's event loop; main caches the answers by path + mtime + size (generation-hashes.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { JobHandler } from '../worker-protocol';
import type { FileHash, HashFilesJobParams, HashFilesJobResult } from './job-types';

async function hashFile(path: string, signal: AbortSignal): Promise<FileHash> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new StudioError('FILE_NOT_FOUND', `${path} does not exist (moved or deleted?). Pick the file again in the library.`, { path });
  }
  if (!info.isFile()) throw new StudioError('FILE_UNREADABLE', `${path} is not a file.`, { path });
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (signal.aborted) throw new StudioError('CANCELLED', 'Cancelled.');
      hash.update(chunk);
    }
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw new StudioError('FILE_UNREADABLE', `Could not read ${path}: ${(e as Error).message}`, { path });
  }
  return { path, sha256: hash.digest('hex'), size: info.size, mtimeMs: info.mtimeMs };
}

export const hashFilesJob: JobHandler<unknown, HashFilesJobResult> = async (raw, ctx) => {
  const paths = (raw as Partial<HashFilesJobParams> | null)?.paths;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) throw new StudioError('BAD_REQUEST', 'A hash-files job needs { paths: string[] }.');
  const files: FileHash[] = [];
  for (const p of paths) files.push(await hashFile(resolve(p), ctx.signal));
  return { files };
};
