import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

function insertGeneration(db: Database.Database, prompt: string): number {
  return Number(
    db
      .prepare(
        `INSERT INTO generations (status, params_json, prompt, negative_prompt, seed, noise_generator, noise_version, engine_version, created_at)
         VALUES ('queued', '{}', ?, 'ugly', 1, 'torch-cpu-randn', '1', 'v', '2026-01-01T00:00:00.000Z')`,
      )
      .run(prompt).lastInsertRowid,
  );
}

describe('migration 002-generations', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('upgrades a version-1 database that already holds library items, keeping them', () => {
    db = new Database(':memory:');
    migrate(db, 1);
    db.prepare(
      `INSERT INTO library_items (kind, name, path, storage, size_bytes, sha256, autov2, family, family_label, supported, imported_at, updated_at, checked_at)
       VALUES ('lora', 'kept', '/x', 'reference', 1, ?, 'AAAAAAAAAA', 'sd15', 'SD1.5', 1, 't', 't', 't')`,
    ).run('c'.repeat(64));
    expect(migrate(db, 2).map((m) => m.version)).toEqual([2]);
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare('SELECT name FROM library_items').pluck().all()).toEqual(['kept']);
  });

  it('keeps the prompt index in step through insert, update and delete', () => {
    db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 2);
    const fox = insertGeneration(db, 'a red fox in snow');
    const cat = insertGeneration(db, 'a sleeping cat');
    const match = (q: string) => db.prepare('SELECT rowid FROM generations_fts WHERE generations_fts MATCH ? ORDER BY rowid').pluck().all(q);
    expect(match('fox')).toEqual([fox]);
    expect(match('a')).toEqual([fox, cat]);
    db.prepare("UPDATE generations SET prompt = 'a sleeping dog' WHERE id = ?").run(cat);
    expect(match('cat')).toEqual([]);
    expect(match('dog')).toEqual([cat]);
    db.prepare('DELETE FROM generations WHERE id = ?').run(fox);
    expect(match('fox')).toEqual([]);
    // The FTS5 integrity check compares the index with the content table.
    expect(() => db.prepare("INSERT INTO generations_fts(generations_fts) VALUES ('integrity-check')").run()).not.toThrow();
  });

  it('cascades LoRA rows with their generation and refuses unknown statuses', () => {
    db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 2);
    const id = insertGeneration(db, 'p');
    db.prepare('INSERT INTO generation_loras (generation_id, position, path, sha256, weight, enabled) VALUES (?, 0, ?, ?, 0.8, 1)').run(id, '/l.safetensors', 'd'.repeat(64));
    db.prepare('DELETE FROM generations WHERE id = ?').run(id);
    expect(db.prepare('SELECT count(*) FROM generation_loras').pluck().get()).toBe(0);
    expect(() => db.prepare("UPDATE generations SET status = 'paused'").run()).not.toThrow(); // no rows left
    const id2 = insertGeneration(db, 'q');
    expect(() => db.prepare("UPDATE generations SET status = 'paused' WHERE id = ?").run(id2)).toThrow(/CHECK/);
    // AUTOINCREMENT: a deleted id is never handed out again.
    expect(id2).toBeGreaterThan(id);
  });
});
