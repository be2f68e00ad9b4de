/**
 * Temporaries outside the data folder — an export or a CLI `--out` written beside the creator's own files — can
 * only be swept at the next start if that start knows where they are. So before a process writes temporaries
 * into such a folder it records the folder here, under its owner marker:
 *
 *   <data>/temp-places/<owner marker>-<sha256(folder), 16 hex>   (content: the folder's absolute path)
 *
 * It removes its record when the work is done. At start-up, records of dead owners are followed: their folder is
 * swept (only our marked temporaries of dead processes, see sweepTemporaries), and the record is dropped once the
 * folder holds no marked entries at all (a live process's temporaries there keep it for the next start).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { entriesOf, holdsMarkedEntries, sweepTemporaries, temporarySibling } from './atomic-files';
import { dataLayout, isInside } from './layout';
import { OWNER_MARKER, ownerAlive, parseOwnerMarker } from './process-owner';

/** How many pieces of work in this process hold each record (two exports into one folder share it). */
const held = new Map<string, number>();

function recordPath(dataDir: string, folder: string): string {
  const hash = createHash('sha256').update(folder).digest('hex').slice(0, 16);
  return join(dataLayout(dataDir).tempPlaces, `${OWNER_MARKER}-${hash}`);
}

/**
 * Notes that this process is about to write temporaries into `folder`; call the returned function when they are
 * all committed or discarded. Folders inside the data folder need no record (the start-up sweep covers them).
 */
export function recordTempPlace(dataDir: string, folder: string): () => void {
  const dir = resolve(folder);
  if (isInside(dataDir, dir)) return () => undefined;
  const path = recordPath(dataDir, dir);
  const count = held.get(path) ?? 0;
  if (count === 0) {
    try {
      mkdirSync(dataLayout(dataDir).tempPlaces, { recursive: true });
      const tmp = temporarySibling(path);
      writeFileSync(tmp, dir);
      renameSync(tmp, path);
    } catch {
      // A read-only data folder: the work still runs; only a crash's leftovers there would not be swept.
      return () => undefined;
    }
  }
  held.set(path, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(path) ?? 1) - 1;
    if (left > 0) {
      held.set(path, left);
      return;
    }
    held.delete(path);
    rmSync(path, { force: true });
  };
}

/** Follows the records of dead processes (see the file comment). Returns the temporaries removed. */
export function sweepTempPlaces(dataDir: string): string[] {
  const dir = dataLayout(dataDir).tempPlaces;
  sweepTemporaries(dir);
  const removed: string[] = [];
  for (const name of entriesOf(dir)) {
    const m = /^(.+)-[0-9a-f]{16}$/.exec(name);
    const owner = m ? parseOwnerMarker(m[1]) : undefined;
    if (!owner || ownerAlive(owner)) continue;
    const record = join(dir, name);
    try {
      const folder = readFileSync(record, 'utf8');
      removed.push(...sweepTemporaries(folder));
      if (!holdsMarkedEntries(folder)) rmSync(record, { force: true });
    } catch {
      // Unreadable record or folder: tried again at the next start.
    }
  }
  return removed;
}
