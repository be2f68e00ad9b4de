import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

describe('migration 004-settings', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('upgrades a version-3 database with timelines, keeping them, and stores one JSON value per key', () => {
    db = new Database(':memory:');
    migrate(db, 3);
    db.prepare("INSERT INTO timelines (name, created_at, updated_at) VALUES ('kept', 't', 't')").run();
    expect(migrate(db, 4).map((m) => m.name)).toEqual(['settings']);
    expect(schemaVersion(db)).toBe(4);
    expect(db.prepare('SELECT name FROM timelines').pluck().all()).toEqual(['kept']);
    const put = db.prepare('INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?)');
    put.run('threads', '4', 't');
    expect(() => put.run('threads', '8', 't')).toThrow(/UNIQUE|PRIMARY/);
  });
});
