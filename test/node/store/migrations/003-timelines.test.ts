import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../../../../src/main/store/migrations/index';

describe('migration 003-timelines', () => {
  let db: Database.Database;
  afterEach(() => db?.close());

  it('upgrades a version-2 database with history, keeping it, and ties clips to timelines and generations', () => {
    db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, 2);
    const gen = Number(
      db
        .prepare(
          `INSERT INTO generations (status, params_json, prompt, negative_prompt, seed, noise_generator, noise_version, engine_version, created_at)
           VALUES ('done', '{}', 'kept', '', 1, 'n', '1', 'v', 't')`,
        )
        .run().lastInsertRowid,
    );
    expect(migrate(db, 3).map((m) => m.version)).toEqual([3]);
    expect(schemaVersion(db)).toBe(3);
    expect(db.prepare('SELECT prompt FROM generations').pluck().all()).toEqual(['kept']);

    const tl = Number(db.prepare("INSERT INTO timelines (name, created_at, updated_at) VALUES ('p', 't', 't')").run().lastInsertRowid);
    const addClip = db.prepare('INSERT INTO timeline_clips (timeline_id, position, generation_id, in_frame, out_frame) VALUES (?, 0, ?, ?, ?)');
    addClip.run(tl, gen, 0, 16);
    expect(() => addClip.run(tl, gen, 5, 5)).toThrow(/CHECK/);
    expect(() => addClip.run(tl, gen + 100, 0, 4)).toThrow(/FOREIGN KEY/);
    expect(db.prepare('SELECT speed FROM timeline_clips').pluck().get()).toBe(1);
    db.prepare('DELETE FROM timelines WHERE id = ?').run(tl);
    expect(db.prepare('SELECT count(*) FROM timeline_clips').pluck().get()).toBe(0);
  });
});
