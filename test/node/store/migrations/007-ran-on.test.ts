import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

describe('migration 007-ran-on', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('upgrades a version-6 database with a generation, keeping it, with no record of where it ran', () => {
    db = new Database(':memory:');
    migrate(db, 6);
    db.prepare(
      `INSERT INTO generations (status, params_json, prompt, negative_prompt, seed, noise_generator, noise_version, engine_version, created_at)
       VALUES ('done', '{}', 'a kite', '', 1, 'torch-cpu-randn', '1', 'v', '2026-01-01T00:00:00.000Z')`,
    ).run();
    expect(migrate(db, 7).map((m) => m.name)).toEqual(['ran-on']);
    expect(schemaVersion(db)).toBe(7);
    expect(db.prepare('SELECT prompt, ran_on_json FROM generations').all()).toEqual([{ prompt: 'a kite', ran_on_json: null }]);
  });
});
