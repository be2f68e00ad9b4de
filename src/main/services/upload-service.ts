/**
 * Files the renderer holds but cannot name by path (picked or dropped in a browser, or in Electron's sandboxed
 * renderer) arrive here in ordered base64 chunks, are written under <data>/uploads/, and are then imported into the
 * library as a studio-owned copy. The temporary folder is removed whatever the outcome.
 *
 * A page is untrusted input, so everything an upload holds is bounded:
 * - uploads in progress: MAX_UPLOADS_PER_CLIENT per client (one web socket, or the Electron window); one more is
 *   refused with LIMIT_EXCEEDED. No cap across clients, so one page cannot starve another: the number of clients is
 *   itself bounded by the sockets the process can hold, and an upload costs no descriptor;
 * - file descriptors: none between chunks (each chunk opens, writes and closes), so no number of uploads can
 *   exhaust the process's descriptors and break unrelated imports;
 * - time: an upload with no chunk for `idleMs` (UPLOAD_IDLE_MS) is discarded with its file;
 * - lifetime: `releaseClient` (the socket closed) discards that client's uploads; `close` discards all.
 * Each upload's folder is a store temporary (`.tmp-<pid>-…`, atomic-files.ts), so what a killed process left is
 * swept by the store's own sweep when the next one starts, and never while that process is alive.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { UploadRef } from '../../shared/api';
import { UPLOAD_CHUNK_BYTES } from '../../shared/api-validation';
import type { ImportOptions, ImportResult } from '../../shared/domain/library';
import { StudioError } from '../../shared/errors';
import { createTemporaryDir, discardTemporary, sweepTemporaries } from '../store/atomic-files';

/** Uploads one client may have in progress at once. The studio's own page sends one file at a time. */
export const MAX_UPLOADS_PER_CLIENT = 4;
/** An upload with no chunk for this long is abandoned (a closed tab, a stalled page). */
export const UPLOAD_IDLE_MS = 10 * 60 * 1000;
/** The client of calls that do not say which: the Electron window, the CLI, tests. */
export const LOCAL_CLIENT = 'local';

interface Upload {
  /** The file name the creator uploaded: what errors call the file. */
  name: string;
  client: string;
  dir: string;
  path: string;
  size: number;
  /** The offset the next chunk must start at (chunks accepted so far, some perhaps still being written). */
  next: number;
  /** Bytes on disk: chunks whose write finished. */
  written: number;
  idle: NodeJS.Timeout;
}

export interface UploadServiceOptions {
  /** Default UPLOAD_IDLE_MS. */
  idleMs?: number;
}

/** Folder names the uploads folder held before uploads were store temporaries: a bare upload id. */
const LEGACY_UPLOAD_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
  /** Uploads being set up (id → client): counted against the limits at once, so a burst of begins cannot slip by. */
  private readonly starting = new Map<string, string>();
  private readonly idleMs: number;

  /** Sweeps what dead processes left in `uploadsDir` first (synchronously: nothing of ours is there yet). */
  constructor(
    private readonly uploadsDir: string,
    private readonly importFile: (path: string, options: ImportOptions) => Promise<ImportResult>,
    opts: UploadServiceOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? UPLOAD_IDLE_MS;
    sweepTemporaries(uploadsDir);
    sweepLegacyUploads(uploadsDir);
  }

  async begin(fileName: string, sizeBytes: number, client: string = LOCAL_CLIENT): Promise<UploadRef> {
    const clients = [...[...this.uploads.values()].map((u) => u.client), ...this.starting.values()];
    if (clients.filter((c) => c === client).length >= MAX_UPLOADS_PER_CLIENT)
      throw new StudioError('LIMIT_EXCEEDED', `A page may have at most ${MAX_UPLOADS_PER_CLIENT} uploads in progress; wait for one to finish.`, { limit: MAX_UPLOADS_PER_CLIENT, client });
    const uploadId = randomUUID();
    this.starting.set(uploadId, client);
    let dir: string | undefined;
    try {
      await mkdir(this.uploadsDir, { recursive: true });
      dir = await createTemporaryDir(join(this.uploadsDir, uploadId));
      const path = join(dir, fileName);
      try {
        // Created now so a name the disk refuses fails here, not after the first chunk; closed straight away.
        await (await open(path, 'wx')).close();
      } catch (e) {
        throw writeError(e, path);
      }
      // The client went (or the service closed) while this was being set up: nobody will send its chunks.
      if (!this.starting.has(uploadId)) throw new StudioError('NOT_FOUND', 'The upload was cancelled before it started.', { uploadId });
      this.uploads.set(uploadId, { name: fileName, client, dir, path, size: sizeBytes, next: 0, written: 0, idle: this.idleTimer(uploadId) });
      return { uploadId, chunkBytes: UPLOAD_CHUNK_BYTES };
    } catch (e) {
      if (dir !== undefined) await discardTemporary(dir);
      throw e instanceof StudioError ? e : writeError(e, this.uploadsDir);
    } finally {
      this.starting.delete(uploadId);
    }
  }

  async chunk(uploadId: string, offset: number, base64: string): Promise<void> {
    const u = this.get(uploadId);
    if (offset !== u.next) throw new StudioError('BAD_REQUEST', `Upload chunks must arrive in order: expected offset ${u.next}, got ${offset}.`, { uploadId, offset, expected: u.next });
    const bytes = Buffer.from(base64, 'base64');
    if (u.next + bytes.length > u.size) {
      await this.discard(uploadId);
      throw new StudioError('BAD_REQUEST', 'The upload is larger than announced; it was discarded.', { uploadId, size: u.size });
    }
    // Accepted before the write, so a second chunk for the same offset sent without waiting is refused above.
    u.next += bytes.length;
    u.idle.refresh();
    try {
      const file = await open(u.path, 'r+');
      try {
        await file.write(bytes, 0, bytes.length, offset);
      } finally {
        await file.close();
      }
    } catch (e) {
      await this.discard(uploadId);
      throw writeError(e, u.path);
    }
    u.written += bytes.length;
  }

  async finish(uploadId: string, options: ImportOptions = {}): Promise<ImportResult> {
    return this.finishWith(uploadId, (path) => this.importFile(path, { ...options, mode: 'copy' }));
  }

  /**
   * Hands the completed upload to `consume` (the file's temporary path and the name the creator uploaded), which
   * must copy what it keeps: the temporary file is removed afterwards whatever the outcome.
   */
  async finishWith<T>(uploadId: string, consume: (path: string, name: string) => Promise<T>): Promise<T> {
    const u = this.get(uploadId);
    // Out of the table before the import: neither the idle timer nor a closing socket may remove the file mid-import.
    this.forget(uploadId);
    try {
      if (u.written !== u.size) throw new StudioError('BAD_REQUEST', `The upload is incomplete (${u.written} of ${u.size} bytes arrived).`, { uploadId });
      return await consume(u.path, u.name);
    } catch (e) {
      throw asUploadedFile(e, u.path, u.name);
    } finally {
      await discardTemporary(u.dir);
    }
  }

  /** The client is gone (its socket closed): its uploads in progress and their files go. */
  async releaseClient(client: string): Promise<void> {
    for (const [id, c] of [...this.starting]) if (c === client) this.starting.delete(id);
    for (const [id, u] of [...this.uploads]) if (u.client === client) await this.discard(id);
  }

  async close(): Promise<void> {
    this.starting.clear();
    for (const id of [...this.uploads.keys()]) await this.discard(id);
  }

  private get(uploadId: string): Upload {
    const u = this.uploads.get(uploadId);
    if (!u) throw new StudioError('NOT_FOUND', 'That upload is not in progress (it finished, failed or was abandoned). Import the file again.', { uploadId });
    return u;
  }

  private idleTimer(uploadId: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.discard(uploadId), this.idleMs);
    // An abandoned upload must not keep the process alive.
    timer.unref();
    return timer;
  }

  private forget(uploadId: string): Upload | undefined {
    const u = this.uploads.get(uploadId);
    if (!u) return undefined;
    clearTimeout(u.idle);
    this.uploads.delete(uploadId);
    return u;
  }

  private async discard(uploadId: string): Promise<void> {
    const u = this.forget(uploadId);
    if (u) await discardTemporary(u.dir);
  }
}

/** A failed write into the uploads folder, as an error the creator can act on. */
function writeError(e: unknown, path: string): StudioError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new StudioError('DISK_FULL', 'The disk is full; free some space and import the file again.', { path }, { cause: e });
  if (code === 'ENAMETOOLONG')
    return new StudioError('BAD_REQUEST', 'The file name is too long for the data folder’s disk; rename the file and import it again.', { path }, { cause: e });
  if (code === 'EMFILE' || code === 'ENFILE')
    return new StudioError('LIMIT_EXCEEDED', 'The studio has too many files open right now; import the file again in a moment.', { path }, { cause: e });
  return new StudioError('FILE_UNWRITABLE', 'The uploaded file could not be written to the data folder.', { path }, { cause: e });
}

/** Upload folders from before they were store temporaries carry no owner; any found at start are leftovers. */
function sweepLegacyUploads(uploadsDir: string): void {
  let names: string[];
  try {
    names = readdirSync(uploadsDir);
  } catch {
    return;
  }
  for (const name of names) if (LEGACY_UPLOAD_DIR.test(name)) rmSync(join(uploadsDir, name), { recursive: true, force: true });
}
