import type Database from 'better-sqlite3';
import { sweepTemporaries } from './atomic-files';
import { dataLayout } from './layout';
import { PROCESS_OWNER, processAlive } from './process-owner';
import { sweepTempPlaces } from './temp-places';

/**
 * At start: generations still 'queued' or 'running' whose owning process is gone can never finish; mark them
 * 'interrupted' so the history tells the truth and the creator can re-run them. Rows owned by another live process
 * (the app generating while the CLI opens the same folder) are left alone. Returns the ids changed.
 */
export function recoverStaleGenerations(db: Database.Database, now: string = new Date().toISOString()): number[] {
  const rows = db
    .prepare("SELECT id, owner_pid AS pid, owner_token AS token FROM generations WHERE status IN ('queued', 'running')")
    .all() as { id: number; pid: number | null; token: string | null }[];
  const stale = rows.filter((r) => r.token !== PROCESS_OWNER.token && !(r.pid !== null && r.pid !== PROCESS_OWNER.pid && processAlive(r.pid)));
  if (stale.length === 0) return [];
  const update = db.prepare(
    "UPDATE generations SET status = 'interrupted', finished_at = ?, owner_pid = NULL, owner_token = NULL WHERE id = ? AND status IN ('queued', 'running')",
  );
  db.transaction(() => {
    for (const r of stale) update.run(now, r.id);
  }).immediate();
  return stale.map((r) => r.id);
}

/**
 * At start: what dead processes left on disk. Half-written outputs and scratch folders in the data folder go,
 * half-done deletes are put back or finished (sweepTemporaries), and temporaries they left in folders outside the
 * data folder (an export or CLI --out destination, recorded by temp-places.ts) are removed. Entries of live
 * processes are never touched. Needs no database: the CLI runs it even when it records no history.
 */
export function sweepLeftovers(dataDir: string): void {
  const layout = dataLayout(dataDir);
  for (const dir of [layout.outputs, layout.library, layout.exports, layout.scratch, layout.root]) sweepTemporaries(dir);
  sweepTempPlaces(dataDir);
}
