/**
 * Files the renderer holds but cannot name by path (picked or dropped in a browser, or in Electron's sandboxed
 * renderer) arrive here in ordered base64 chunks, are written under <data>/uploads/<id>/<file name>, and are then
 * imported into the library as a studio-owned copy. The temporary folder is removed whatever the outcome, and
 * abandoned uploads are dropped after an hour so a closed tab does not leave gigabytes behind.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadRef } from '../../shared/api';
import { UPLOAD_CHUNK_BYTES } from '../../shared/api-validation';
import type { ImportOptions, ImportResult } from '../../shared/domain/library';
import { StudioError } from '../../shared/errors';

interface Upload {
  /** The file name the creator uploaded: what errors call the file. */
  name: string;
  dir: string;
  path: string;
  size: number;
  written: number;
  file: FileHandle;
  touched: number;
}

const ABANDONED_MS = 60 * 60 * 1000;

/**
 * An error about the temporary copy, retold about the creator's file: `<data>/uploads/<id>/x.safetensors` means
 * nothing to them (and shows the data folder's layout), the name they uploaded does.
 */
function asUploadedFile(e: unknown, tempPath: string, name: string): unknown {
  if (!(e instanceof StudioError)) return e;
  const retell = (v: unknown): unknown => (typeof v === 'string' ? v.split(tempPath).join(name) : v);
  const details = e.details && Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, retell(v)]));
  return new StudioError(e.code, retell(e.message) as string, details, { cause: e });
}

export class UploadService {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly uploadsDir: string,
    private readonly importFile: (path: string, options: ImportOptions) => Promise<ImportResult>,
  ) {}

  async begin(fileName: string, sizeBytes: number): Promise<UploadRef> {
    await this.dropAbandoned();
    const uploadId = randomUUID();
    const dir = join(this.uploadsDir, uploadId);
    await mkdir(dir, { recursive: true });
    const path = join(dir, fileName);
    const file = await open(path, 'w');
    this.uploads.set(uploadId, { name: fileName, dir, path, size: sizeBytes, written: 0, file, touched: Date.now() });
    return { uploadId, chunkBytes: UPLOAD_CHUNK_BYTES };
  }

  async chunk(uploadId: string, offset: number, base64: string): Promise<void> {
    const u = this.get(uploadId);
    if (offset !== u.written) throw new StudioError('BAD_REQUEST', `Upload chunks must arrive in order: expected offset ${u.written}, got ${offset}.`, { uploadId, offset, expected: u.written });
    const bytes = Buffer.from(base64, 'base64');
    if (u.written + bytes.length > u.size) {
      await this.discard(uploadId);
      throw new StudioError('BAD_REQUEST', 'The upload is larger than announced; it was discarded.', { uploadId, size: u.size });
    }
    try {
      await u.file.write(bytes, 0, bytes.length, offset);
    } catch (e) {
      await this.discard(uploadId);
      const full = (e as NodeJS.ErrnoException).code === 'ENOSPC';
      throw new StudioError(full ? 'DISK_FULL' : 'FILE_UNWRITABLE', full ? 'The disk is full; free some space and import the file again.' : 'The uploaded file could not be written to the data folder.', { path: u.path }, { cause: e });
    }
    u.written += bytes.length;
    u.touched = Date.now();
  }

  async finish(uploadId: string, options: ImportOptions = {}): Promise<ImportResult> {
    const u = this.get(uploadId);
    try {
      if (u.written !== u.size) throw new StudioError('BAD_REQUEST', `The upload is incomplete (${u.written} of ${u.size} bytes arrived).`, { uploadId });
      await u.file.close();
      return await this.importFile(u.path, { ...options, mode: 'copy' });
    } catch (e) {
      throw asUploadedFile(e, u.path, u.name);
    } finally {
      await this.discard(uploadId);
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.uploads.keys()]) await this.discard(id);
  }

  private get(uploadId: string): Upload {
    const u = this.uploads.get(uploadId);
    if (!u) throw new StudioError('NOT_FOUND', 'That upload is not in progress (it finished, failed or was abandoned). Import the file again.', { uploadId });
    return u;
  }

  private async discard(uploadId: string): Promise<void> {
    const u = this.uploads.get(uploadId);
    if (!u) return;
    this.uploads.delete(uploadId);
    await u.file.close().catch(() => undefined);
    await rm(u.dir, { recursive: true, force: true });
  }

  private async dropAbandoned(): Promise<void> {
    const now = Date.now();
    for (const [id, u] of this.uploads) if (now - u.touched > ABANDONED_MS) await this.discard(id);
  }
}
