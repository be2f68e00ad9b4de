import Database from 'better-sqlite3';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, schemaVersion } from '../../../../src/main/store/migrations/index';
import type { Migration } from '../../../../src/main/store/migrations/migration';

describe('migration runner', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('lists every NNN-name.ts file once, numbered 1…n in order', () => {
    const dir = join(process.cwd(), 'src', 'main', 'store', 'migrations');
    const files = readdirSync(dir).filter((f) => /^\d{3}-.+\.ts$/.test(f)).sort();
    expect(files.map((f) => [Number(f.slice(0, 3)), f.slice(4, -3)])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('applies a failing step not at all and stops there, keeping the steps before it', () => {
    db = new Database(':memory:');
    const broken: Migration = {
      version: 2,
      name: 'broken',
      up(d) {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('power cut');
      },
    };
    const never: Migration = { version: 3, name: 'never', up: (d) => d.exec('CREATE TABLE never (x INTEGER)') };
    expect(() => migrate(db, 3, [MIGRATIONS[0], broken, never])).toThrow('power cut');
    expect(schemaVersion(db)).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('half_done', 'never', 'library_items')").pluck().all();
    expect(tables).toEqual(['library_items']);
    // Fixed and run again, it continues from where it stopped.
    expect(migrate(db).map((m) => m.version)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
  });
});
