import type { Migration } from './migration';

/**
 * Studio settings as JSON values under stable keys (providers, threads, defaultParams, …). One row per key, so a
 * newer app can add keys an older one simply does not read, and a patch touches only what it names.
 */
export const migration004Settings: Migration = {
  version: 4,
  name: 'settings',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value_json  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
    `);
  },
};
