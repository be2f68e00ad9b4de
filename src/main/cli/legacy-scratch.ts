/**
 * Studio versions before scratch moved into the data folder made `<system temp>/animatelcm-generate-*` for every
 * `generate --out x.mp4`, and a killed run left it there (frames, up to megabytes each). Nothing else names
 * folders so. One is removed when its writer is provably gone: it holds a half-written `.tmp-<pid>-…` frames folder
 * of a dead process, or it has not changed for an hour (the old CLI wrote its frames, then only read them while
 * encoding, which takes seconds to minutes).
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMarkedName } from '../store/atomic-files';
import { ownerAlive } from '../store/process-owner';

const LEGACY_PREFIX = 'animatelcm-generate-';
const IDLE_MS = 60 * 60 * 1000;

/** Removes abandoned legacy scratch folders; returns what it removed. Never throws. */
export function sweepLegacyScratch(dir: string = tmpdir(), now: number = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(LEGACY_PREFIX));
  } catch {
    return removed;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const inside = readdirSync(path);
      const writers = inside.flatMap((n) => parseMarkedName(n)?.owner ?? []);
      const deadWriter = writers.length > 0 && writers.every((o) => !ownerAlive(o));
      const idle = writers.length === 0 && now - statSync(path).mtimeMs > IDLE_MS;
      if (!deadWriter && !idle) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Not ours to read, or gone already.
    }
  }
  return removed;
}
