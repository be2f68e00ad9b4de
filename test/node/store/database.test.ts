import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupAndReset, openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { GenerationsStore } from '../../../src/main/store/generations-store';
import { STUDIO_APPLICATION_ID } from '../../../src/main/store/migrations/001-library';
import { LATEST_SCHEMA_VERSION } from '../../../src/main/store/migrations/index';
import { StudioError } from '../../../src/shared/errors';
import { HERE, META, params, tempDataDir } from './helpers';

function caught(fn: () => unknown): StudioError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StudioError) return e;
    throw new Error(`expected a StudioError, got ${String(e)}`);
  }
  throw new Error('expected an error, none was thrown');
}

describe('openDatabase', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase | undefined;
  beforeEach(() => ({ dir, cleanup } = tempDataDir('db-')));
  afterEach(() => {
    db?.close();
    db = undefined;
    cleanup();
  });

  it('creates a fresh database in WAL mode with foreign keys, our marker and the latest schema', () => {
    db = openDatabase(join(dir, 'nested', 'data'));
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.sqlite.pragma('application_id', { simple: true })).toBe(STUDIO_APPLICATION_ID);
    expect(db.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    new GenerationsStore(db).insert(params(), META);
    db.close();
    db = openDatabase(join(dir, 'nested', 'data'));
    expect(new GenerationsStore(db).list().total).toBe(1);
  });

  it('refuses a file that is not SQLite, leaves it untouched, and backupAndReset moves it aside on request', () => {
    const file = join(dir, 'studio.db');
    const bytes = Buffer.from('these are my holiday notes, not a database\n'.repeat(20));
    writeFileSync(file, bytes);
    const err = caught(() => openDatabase(dir));
    expect(err.code).toBe('DB_CORRUPT');
    expect(err.details?.reason).toBe('not-sqlite');
    expect(err.message).toContain(file);
    expect(readFileSync(file).equals(bytes)).toBe(true);

    const res = backupAndReset(dir, new Date('2026-11-26T12:34:56.789Z'));
    expect(res.backupPath).toBe(`${file}.bad-2026-11-26T12-34-56-789Z`);
    expect(readFileSync(res.backupPath!).equals(bytes)).toBe(true);
    expect(existsSync(file)).toBe(false);
    db = openDatabase(dir);
    expect(db.schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    // A second reset in the same millisecond never overwrites the first backup.
    db.close();
    db = undefined;
    const again = backupAndReset(dir, new Date('2026-11-26T12:34:56.789Z'));
    expect(again.backupPath).not.toBe(res.backupPath);
    expect(readFileSync(res.backupPath!).equals(bytes)).toBe(true);
  });

  it('refuses an SQLite database made by another program, read-only too, without changing it', () => {
    const file = join(dir, 'studio.db');
    const other = new Database(file);
    other.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('beach.jpg');");
    other.close();
    const before = readFileSync(file);
    for (const readonly of [false, true]) {
      const err = caught(() => openDatabase(dir, { readonly }));
      expect(err.code).toBe('DB_CORRUPT');
      expect(err.details?.reason).toBe('foreign');
    }
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a damaged database for writing but still lets it be read read-only', () => {
    db = openDatabase(dir);
    const store = new GenerationsStore(db);
    for (let i = 0; i < 300; i++) store.insert(params({ prompt: `prompt number ${i} `.repeat(20) }), META);
    db.close();
    db = undefined;
    const file = join(dir, 'studio.db');
    expect(existsSync(`${file}-wal`)).toBe(false); // closed cleanly: everything is in the main file
    const buf = readFileSync(file);
    const pageSize = buf.readUInt16BE(16);
    const pages = buf.length / pageSize;
    // Scribble over the b-tree page headers of the last few pages (index/table pages of the history).
    for (let p = pages - 4; p < pages; p++) buf.fill(0xa5, p * pageSize, p * pageSize + 64);
    writeFileSync(file, buf);
    const err = caught(() => openDatabase(dir));
    expect(err.code).toBe('DB_CORRUPT');
    db = openDatabase(dir, { readonly: true });
    expect(db.integrity).not.toBe('ok');
    expect(db.sqlite.prepare('SELECT count(*) FROM library_items').pluck().get()).toBe(0);
  });

  it('refuses a database from a newer app unless opened read-only, and never writes to it', () => {
    db = openDatabase(dir);
    new GenerationsStore(db).insert(params({ prompt: 'made by the future' }), META);
    db.close();
    const raw = new Database(join(dir, 'studio.db'));
    raw.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 5}`);
    raw.close();

    const err = caught(() => openDatabase(dir));
    expect(err.code).toBe('DB_TOO_NEW');
    expect(err.details).toMatchObject({ found: LATEST_SCHEMA_VERSION + 5, known: LATEST_SCHEMA_VERSION });

    db = openDatabase(dir, { readonly: true });
    expect(db.newerThanApp).toBe(true);
    const store = new GenerationsStore(db);
    expect(store.list().items.map((r) => r.params.prompt)).toEqual(['made by the future']);
    expect(caught(() => store.insert(params(), META)).code).toBe('DB_READONLY');
    db.close();
    const check = new Database(join(dir, 'studio.db'), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION + 5);
    check.close();
    db = undefined;
  });

  it('turns a full disk into DISK_FULL and keeps everything committed before it', () => {
    db = openDatabase(dir);
    const store = new GenerationsStore(db);
    const kept = store.insert(params({ prompt: 'before the disk filled up' }), META);
    // max_page_count caps the file at its current size: SQLite then fails exactly as on a full disk (SQLITE_FULL).
    const pages = db.sqlite.pragma('page_count', { simple: true }) as number;
    db.sqlite.pragma(`max_page_count = ${pages}`);
    const err = caught(() => store.insert(params({ prompt: 'x'.repeat(200_000) }), META));
    expect(err.code).toBe('DISK_FULL');
    expect(err.details?.sqliteCode).toMatch(/^SQLITE_FULL/);
    db.sqlite.pragma('max_page_count = 1073741823');
    expect(store.list().items.map((r) => r.id)).toEqual([kept.id]);
    expect(db.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('reports a read-only data folder as DB_READONLY and still opens it read-only', () => {
    db = openDatabase(dir);
    new GenerationsStore(db).insert(params({ prompt: 'on a read-only disk' }), META);
    db.close();
    db = undefined;
    const before = readdirSync(dir).sort();
    const asRoot = process.getuid?.() === 0;
    // root ignores file modes, so the probe runs as an unprivileged user there; otherwise chmod is enough.
    if (!asRoot) chmodSync(dir, 0o555);
    else chmodSync(dir, 0o755);
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'readonly-probe.ts'), dir], {
        encoding: 'utf8',
        cwd: process.cwd(),
        ...(asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: dir } } : {}),
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { ok: boolean; code?: string; prompts?: string[] }>;
      expect(out.writable).toMatchObject({ ok: false, code: 'DB_READONLY' });
      expect(out.readonly).toEqual({ ok: true, prompts: ['on a read-only disk'] });
    } finally {
      chmodSync(dir, 0o700);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(statSync(join(dir, 'studio.db')).size).toBeGreaterThan(0);
  });
});
