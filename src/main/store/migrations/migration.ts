import type Database from 'better-sqlite3';

/**
 * One schema step. `version` is the `PRAGMA user_version` the database has after `up` ran; the runner calls `up`
 * inside a transaction together with the user_version bump, so a step is applied entirely or not at all.
 * Steps are append-only: once released, a migration is never edited, only followed by a new one.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}
