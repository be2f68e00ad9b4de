/**
 * Files appear complete or not at all: everything is written under a temporary sibling name, flushed, then
 * renamed into place (rename is atomic within one file system on POSIX and NTFS). A crash at any point leaves either
 * the old state or the new one, plus at worst a `.tmp-…` leftover that `sweepTemporaries` removes later.
 *
 * Temporary names carry the writer's owner marker (`.tmp-<pid>[.<start>]-<rand>-<name>`, see process-owner.ts) so a
 * sweep never removes a file another live process (the app while the CLI runs, or the reverse) is still writing,
 * and does remove those of a dead process even when its pid has been given to a new one.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OWNER_MARKER, ownerAlive, parseOwnerMarker } from './process-owner';

const TEMP_PREFIX = '.tmp-';
const TRASH_PREFIX = '.deleting-';
/** `.tmp-<owner>-<8 hex>-<name>` / `.deleting-…`; anything else (a creator's own `.tmp-notes`) is not ours. */
const MARKED_NAME = /^(\.tmp-|\.deleting-)(\d+(?:\.[0-9a-z]+)?)-[0-9a-f]{8}-(.+)$/s;

function siblingName(prefix: string, finalPath: string): string {
  return join(dirname(finalPath), `${prefix}${OWNER_MARKER}-${randomBytes(4).toString('hex')}-${basename(finalPath)}`);
}

/** A temporary or trash name of ours: its kind, its writer and the name it stands for. */
export function parseMarkedName(name: string): { kind: 'tmp' | 'deleting'; owner: { pid: number; start?: string }; original: string } | undefined {
  const m = MARKED_NAME.exec(name);
  const owner = m ? parseOwnerMarker(m[2]) : undefined;
  if (!m || !owner) return undefined;
  return { kind: m[1] === TEMP_PREFIX ? 'tmp' : 'deleting', owner, original: m[3] };
}

/** A temporary path next to `finalPath` (same folder, so the final rename stays on one file system). */
export function temporarySibling(finalPath: string): string {
  return siblingName(TEMP_PREFIX, finalPath);
}

/** A name to move something to just before deleting it, so a half-finished delete is never mistaken for data. */
export function trashSibling(path: string): string {
  return siblingName(TRASH_PREFIX, path);
}

/** Flush a folder's entries (the rename itself) to disk. Windows cannot open folders; there rename is already durable enough. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on this platform; durability against power loss is best-effort, crash safety is not affected.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write `data` to `path` atomically: temp sibling, fsync, rename, fsync the folder. Creates the folder if needed. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporarySibling(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  fsyncDir(dirname(path));
}

/** Move a finished temporary file (written by someone else, e.g. ffmpeg) into place atomically. */
export async function commitFile(tmpPath: string, finalPath: string): Promise<void> {
  await fsyncFile(tmpPath);
  await mkdir(dirname(finalPath), { recursive: true });
  await rename(tmpPath, finalPath);
  fsyncDir(dirname(finalPath));
}

/** Create an empty temporary folder next to where `finalDir` will be; fill it, then `commitOutputDir`. */
export async function createTemporaryDir(finalDir: string): Promise<string> {
  await mkdir(dirname(finalDir), { recursive: true });
  const tmp = temporarySibling(finalDir);
  await mkdir(tmp);
  return tmp;
}

/**
 * Publish a fully written folder: fsync its files, then rename it to `finalDir`. If `finalDir` already exists it is
 * refused unless `replace` is set, in which case the old folder is moved aside first and removed after the swap.
 */
export async function commitOutputDir(tmpDir: string, finalDir: string, opts: { replace?: boolean } = {}): Promise<void> {
  for (const entry of await readdir(tmpDir, { withFileTypes: true })) {
    if (entry.isFile()) await fsyncFile(join(tmpDir, entry.name));
  }
  fsyncDir(tmpDir);
  let aside: string | undefined;
  if (await exists(finalDir)) {
    if (!opts.replace) throw Object.assign(new Error(`${finalDir} already exists`), { code: 'EEXIST' });
    aside = trashSibling(finalDir);
    await rename(finalDir, aside);
  }
  await rename(tmpDir, finalDir);
  fsyncDir(dirname(finalDir));
  if (aside) await rm(aside, { recursive: true, force: true });
}

/** Remove a temporary file or folder after a failure or cancel; never throws. */
export async function discardTemporary(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Clean up after crashed writers in `dir` (not recursive), looking only at our marked entries of processes that
 * are gone (see parseMarkedName; other names are left alone, so this is safe in a creator's own folder):
 * - `.tmp-<owner>-…`: a write that never finished. Never referenced by the history: removed.
 * - `.deleting-<owner>-…`: something moved aside to be deleted or replaced. If its original name is free again, the
 *   crash came before the operation committed (the history row, or the replacing folder, never landed), so it is
 *   put back; otherwise the operation finished and the leftover is removed. Either way nothing the history points
 *   at goes missing.
 * Synchronous because it runs inside openDatabase, before anything else starts. Returns what was removed.
 */
export function sweepTemporaries(dir: string): string[] {
  const removed: string[] = [];
  for (const name of entriesOf(dir)) {
    const marked = parseMarkedName(name);
    // Our own temporaries may be in use right now; so may those of any other live process.
    if (!marked || ownerAlive(marked.owner)) continue;
    const path = join(dir, name);
    try {
      if (marked.kind === 'deleting' && !existsSync(join(dir, marked.original))) {
        renameSync(path, join(dir, marked.original));
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Still there next time; a leftover temp is never referenced by the history, so it is only wasted space.
    }
  }
  return removed;
}

/** True when `dir` holds temporaries or trash of ours from any process, live or dead. */
export function holdsMarkedEntries(dir: string): boolean {
  return entriesOf(dir).some((n) => parseMarkedName(n) !== undefined);
}

/** The names in `dir`; none when it is missing or unreadable (a sweep then has nothing to do there). */
export function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
