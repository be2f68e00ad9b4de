import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { STUDIO_APPLICATION_ID } from '../../../../src/main/store/migrations/001-library';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

describe('migration 001-library', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('marks the file as ours and creates library_items with its constraints', () => {
    db = new Database(':memory:');
    expect(schemaVersion(db)).toBe(0);
    const applied = migrate(db, 1);
    expect(applied.map((m) => m.name)).toEqual(['library']);
    expect(schemaVersion(db)).toBe(1);
    expect(db.pragma('application_id', { simple: true })).toBe(STUDIO_APPLICATION_ID);

    const insert = db.prepare(
      `INSERT INTO library_items (kind, name, path, storage, size_bytes, sha256, autov2, family, family_label, supported, imported_at, updated_at, checked_at)
       VALUES (?, 'x', '/x', 'reference', 1, ?, 'AAAAAAAAAA', 'sd15', 'SD1.5', 1, 't', 't', 't')`,
    );
    insert.run('lora', 'a'.repeat(64));
    // Same hash twice is refused by the schema itself, not only by the service.
    expect(() => insert.run('lora', 'a'.repeat(64))).toThrow(/UNIQUE/);
    expect(() => insert.run('vae', 'b'.repeat(64))).toThrow(/CHECK/);
    const row = db.prepare('SELECT availability, favourite, tags_json FROM library_items').get();
    expect(row).toEqual({ availability: 'ok', favourite: 0, tags_json: '[]' });
  });

  it('is applied exactly once', () => {
    db = new Database(':memory:');
    migrate(db, 1);
    expect(migrate(db, 1)).toEqual([]);
    expect(schemaVersion(db)).toBe(1);
  });
});
