import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

const ITEM = `INSERT INTO library_items (kind, name, path, storage, size_bytes, sha256, autov2, family, family_label, supported, favourite, trigger_words_json, imported_at, updated_at, checked_at)
  VALUES (?, ?, ?, 'reference', 7, ?, 'AAAAAAAAAA', 'sd15', 'SD1.5', 1, 1, '["zap"]', 't', 't', 't')`;

describe('migration 006-model-folders', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('upgrades a version-5 library keeping every item and id, and allows the new kinds, offline and folders', () => {
    db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 5);
    db.prepare(ITEM).run('lora', 'kept', '/m/kept.safetensors', 'a'.repeat(64));
    db.prepare('DELETE FROM library_items').run();
    db.prepare(ITEM).run('checkpoint', 'second', '/m/second.safetensors', 'b'.repeat(64));
    db.prepare("INSERT INTO settings (key, value_json, updated_at) VALUES ('threads', '4', 't')").run();
    // Before: the kinds and availability this step adds are refused.
    expect(() => db.prepare(ITEM).run('vae', 'v', '/m/v', 'c'.repeat(64))).toThrow(/CHECK/);

    expect(migrate(db, 6).map((m) => m.name)).toEqual(['model-folders']);
    expect(schemaVersion(db)).toBe(6);
    // AUTOINCREMENT ids survive the rebuild: #2 is still "second", and a new item does not reuse #1.
    expect(db.prepare('SELECT id, name, favourite, trigger_words_json, folder_id FROM library_items').all()).toEqual([
      { id: 2, name: 'second', favourite: 1, trigger_words_json: '["zap"]', folder_id: null },
    ]);
    expect(db.prepare('SELECT value_json FROM settings').pluck().get()).toBe('4');

    const folder = Number(db.prepare("INSERT INTO library_folders (path, layout, added_at) VALUES ('/m', 'a1111', 't')").run().lastInsertRowid);
    for (const [i, kind] of ['motion-lora', 'embedding', 'vae', 'controlnet'].entries()) db.prepare(ITEM).run(kind, kind, `/m/${kind}`, String(i).repeat(64));
    expect(db.prepare("SELECT max(id) FROM library_items").pluck().get()).toBe(6);
    expect(() => db.prepare(ITEM).run('upscaler', 'u', '/m/u', 'f'.repeat(64))).toThrow(/CHECK/);
    db.prepare("UPDATE library_items SET availability = 'offline', folder_id = ? WHERE id = 2").run(folder);
    expect(() => db.prepare("INSERT INTO library_folders (path, layout, added_at) VALUES ('/m', 'plain', 't')").run()).toThrow(/UNIQUE/);
    expect(() => db.prepare("INSERT INTO library_folders (path, layout, added_at) VALUES ('/n', 'invoke', 't')").run()).toThrow(/CHECK/);

    // The index: one row per file of a folder, gone with its folder; the item stays, no longer tied to the folder.
    db.prepare("INSERT INTO folder_files (folder_id, rel_path, size_bytes, mtime_ms, item_id) VALUES (?, 'a.safetensors', 7, 1, 2)").run(folder);
    expect(() => db.prepare("INSERT INTO folder_files (folder_id, rel_path, size_bytes, mtime_ms) VALUES (?, 'a.safetensors', 7, 1)").run(folder)).toThrow(/UNIQUE|PRIMARY/);
    expect(db.prepare('SELECT state FROM folder_files').pluck().get()).toBe('pending');
    db.prepare('DELETE FROM library_folders WHERE id = ?').run(folder);
    expect(db.prepare('SELECT count(*) FROM folder_files').pluck().get()).toBe(0);
    expect(db.prepare('SELECT folder_id FROM library_items WHERE id = 2').pluck().get()).toBeNull();
  });
});
