import type Database from 'better-sqlite3';
import { migration001Library } from './001-library';
import { migration002Generations } from './002-generations';
import { migration003Timelines } from './003-timelines';
import { migration004Settings } from './004-settings';
import { migration005ClipCrossfade } from './005-clip-crossfade';
import { migration006ModelFolders } from './006-model-folders';
import { migration007RanOn } from './007-ran-on';
import type { Migration } from './migration';

/** Every schema step in order. Append a new file NNN-name.ts and list it here; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [migration001Library, migration002Generations, migration003Timelines, migration004Settings, migration005ClipCrossfade, migration006ModelFolders, migration007RanOn];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Bring `db` from its user_version up to `target` (default: latest), one transaction per step so a failure
 * (disk full, crash) leaves the database at the last complete step. Returns the steps applied.
 */
export function migrate(db: Database.Database, target: number = LATEST_SCHEMA_VERSION, steps: readonly Migration[] = MIGRATIONS): Migration[] {
  const applied: Migration[] = [];
  for (const m of steps) {
    if (m.version > target) break;
    if (m.version <= schemaVersion(db)) continue;
    db.transaction(() => {
      m.up(db);
      // user_version lives in the database header, which is written as part of this transaction.
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m);
  }
  return applied;
}
