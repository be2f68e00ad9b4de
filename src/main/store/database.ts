/**
 * Opening the studio database safely. Every way the file can be wrong ends in a StudioError that says what happened
 * and what the creator can do, never in a silently emptied library:
 *   - not SQLite at all, or SQLite without our application_id  → DB_CORRUPT (details.reason 'not-sqlite' | 'foreign')
 *   - damaged pages (quick_check fails)                          → DB_CORRUPT (reason 'damaged')
 *   - written by a newer studio (user_version > ours)            → DB_TOO_NEW unless opened { readonly: true }
 *   - read-only file/folder                                      → DB_READONLY (open { readonly: true } to browse)
 *   - disk full                                                  → DISK_FULL
 * The way out for a bad file is `backupAndReset`, which moves it aside (timestamped) and is only ever called on
 * the creator's explicit request.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioError } from '../../shared/errors';
import { DATABASE_FILE, dataLayout, type DataLayout } from './layout';
import { STUDIO_APPLICATION_ID } from './migrations/001-library';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersion } from './migrations/index';
import { recoverStaleGenerations, sweepLeftovers } from './recovery';
import { toStoreError } from './sqlite-errors';

export interface OpenDatabaseOptions {
  /** Open without writing anything: no migrations, no recovery. Works for databases from newer versions. */
  readonly?: boolean;
  /** Turn rows left queued/running by dead processes into 'interrupted' (default true; ignored when read-only). */
  recover?: boolean;
  /** Milliseconds to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

export class StudioDatabase {
  readonly layout: DataLayout;
  /** Ids of generations turned 'interrupted' when this database was opened. */
  readonly recovered: number[];
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly sqlite: Database.Database,
    readonly dataDir: string,
    readonly readonly: boolean,
    /** user_version found at open (after migrations). Greater than LATEST_SCHEMA_VERSION means a newer app wrote it. */
    readonly schemaVersion: number,
    recovered: number[] = [],
    /** 'ok', or the first problem `PRAGMA quick_check` found (only a read-only open gets this far with one). */
    readonly integrity: string = 'ok',
    /** Set when a read-only open had to read a private copy (WAL database in a folder we cannot write). */
    readonly snapshotDir?: string,
  ) {
    this.layout = dataLayout(dataDir);
    this.recovered = recovered;
  }

  get path(): string {
    return this.layout.database;
  }

  /** True when the file came from a newer studio; it can only be read, and unknown columns are ignored. */
  get newerThanApp(): boolean {
    return this.schemaVersion > LATEST_SCHEMA_VERSION;
  }

  /** A cached prepared statement. */
  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.run(() => this.sqlite.prepare(sql));
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Run `fn`, turning SQLite errors into StudioErrors. */
  run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** Run `fn` in one IMMEDIATE transaction (takes the write lock up front, so no upgrade deadlocks between processes). */
  write<T>(fn: () => T): T {
    if (this.readonly) {
      throw new StudioError('DB_READONLY', 'The studio database is open read-only, so nothing can be changed. Reopen it normally to make changes.', { path: this.path });
    }
    return this.run(() => this.sqlite.transaction(fn).immediate());
  }

  close(): void {
    this.statements.clear();
    if (this.sqlite.open) this.sqlite.close();
    if (this.snapshotDir) rmSync(this.snapshotDir, { recursive: true, force: true });
  }
}

/** Reads the first 16 bytes: SQLite files start with a fixed magic string (an empty file is a new database). */
function looksLikeSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    if (n === 0) return true;
    return n === 16 && buf.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}

function openError(code: 'DB_CORRUPT', path: string, reason: string, message: string, extra: Record<string, unknown> = {}): StudioError {
  return new StudioError(code, message, { path, reason, safePaths: ['readonly', 'backupAndReset'], ...extra });
}

export function openDatabase(dataDir: string, opts: OpenDatabaseOptions = {}): StudioDatabase {
  const layout = dataLayout(dataDir);
  const path = layout.database;
  const readonly = opts.readonly === true;

  if (readonly) {
    if (!existsSync(path)) {
      throw new StudioError('NOT_FOUND', `There is no studio database in ${dataDir}.`, { path });
    }
  } else {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw toStoreError(e, path);
    }
  }

  if (existsSync(path)) {
    let isSqlite: boolean;
    try {
      isSqlite = statSync(path).isFile() && looksLikeSqlite(path);
    } catch (e) {
      throw toStoreError(e, path);
    }
    if (!isSqlite) {
      throw openError('DB_CORRUPT', path, 'not-sqlite', `${path} is not a studio database (it is not an SQLite file at all). Choose another data folder, or move this file aside and start fresh.`);
    }
  }

  let sqlite: Database.Database;
  let snapshotDir: string | undefined;
  let check: string;
  try {
    sqlite = new Database(path, { readonly, fileMustExist: readonly, ...nativeBindingOption() });
    check = sqlite.pragma('quick_check(1)', { simple: true }) as string;
  } catch (e) {
    const err = toStoreError(e, path);
    if (!(readonly && err instanceof StudioError && err.code === 'DB_READONLY')) throw err;
    // A WAL database in a folder we cannot write cannot be read in place (SQLite needs its -shm file there):
    // read a private copy instead, which is exactly what read-only browsing needs.
    snapshotDir = mkdtempSync(join(tmpdir(), 'animatelcm-readonly-'));
    try {
      const copy = join(snapshotDir, DATABASE_FILE);
      copyFileSync(path, copy);
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
      sqlite = new Database(copy, { readonly: true, fileMustExist: true, ...nativeBindingOption() });
      check = sqlite.pragma('quick_check(1)', { simple: true }) as string;
    } catch (e2) {
      rmSync(snapshotDir, { recursive: true, force: true });
      throw toStoreError(e2, path);
    }
  }

  try {
    sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    sqlite.pragma('foreign_keys = ON');

    // Read-only browsing of a damaged file is the safe way to see what is left, so only writers are refused.
    if (check !== 'ok' && !readonly) {
      throw openError('DB_CORRUPT', path, 'damaged', `The studio database ${path} is damaged (${check}). Open it read-only to see what can still be read, or back it up and start fresh.`, { check });
    }

    const appId = sqlite.pragma('application_id', { simple: true }) as number;
    let version = schemaVersion(sqlite);
    if (appId !== STUDIO_APPLICATION_ID) {
      const tables = sqlite.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
      if (tables.n > 0 || version !== 0) {
        throw openError('DB_CORRUPT', path, 'foreign', `${path} is an SQLite database that another program made, not a studio database. Choose another data folder; the studio will not change this file unless you ask it to move it aside.`, { applicationId: appId, userVersion: version });
      }
    }

    if (version > LATEST_SCHEMA_VERSION && !readonly) {
      throw new StudioError(
        'DB_TOO_NEW',
        `This data folder was last used by a newer version of AnimateLCM Studio (database version ${version}, this app knows up to ${LATEST_SCHEMA_VERSION}). Update the app, or open the data read-only.`,
        { path, found: version, known: LATEST_SCHEMA_VERSION, safePaths: ['readonly'] },
      );
    }

    let recovered: number[] = [];
    if (readonly) {
      if (version < LATEST_SCHEMA_VERSION) {
        throw new StudioError('DB_READONLY', `The studio database ${path} is from an older version and needs an upgrade, which read-only mode cannot do. Open it normally once to upgrade it.`, { path, found: version, known: LATEST_SCHEMA_VERSION });
      }
    } else {
      // WAL: readers never block the writer, and a killed writer leaves a consistent database.
      sqlite.pragma('journal_mode = WAL');
      // NORMAL in WAL mode is durable against process crashes; only an OS crash can lose the last commits.
      sqlite.pragma('synchronous = NORMAL');
      migrate(sqlite);
      version = schemaVersion(sqlite);
      if (opts.recover !== false) {
        recovered = recoverStaleGenerations(sqlite);
        // Leftovers of dead processes: half-written outputs go, half-done deletes are put back or finished.
        sweepLeftovers(dataDir);
        removeOutputsOfDeletedGenerations(sqlite, layout.outputs);
      }
    }
    return new StudioDatabase(sqlite, dataDir, readonly, version, recovered, check, snapshotDir);
  } catch (e) {
    sqlite.close();
    if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
    throw toStoreError(e, path);
  }
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export interface BackupResult {
  /** Where the database file went; null when there was none. */
  backupPath: string | null;
  /** Every file moved (database plus its -wal/-shm companions). */
  moved: string[];
}

/**
 * Move the database (and its -wal/-shm files) aside as `studio.db.bad-<timestamp>` so the next open starts fresh.
 * Only on the creator's explicit request; the database must not be open. Nothing is deleted.
 */
export function backupAndReset(dataDir: string, now: Date = new Date()): BackupResult {
  const { database } = dataLayout(dataDir);
  if (!existsSync(database)) return { backupPath: null, moved: [] };
  let base = `${database}.bad-${timestamp(now)}`;
  for (let i = 1; existsSync(base); i++) base = `${database}.bad-${timestamp(now)}-${i}`;
  const moved: string[] = [];
  try {
    // Companions first: a -wal left behind next to a fresh database would be replayed into it.
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(database + suffix)) {
        renameSync(database + suffix, base + suffix);
        moved.push(base + suffix);
      }
    }
    renameSync(database, base);
    moved.push(base);
  } catch (e) {
    // Put back what already moved, so the database and its companions never end up split apart.
    for (const m of moved) {
      try {
        renameSync(m, database + m.slice(base.length));
      } catch {
        // Left where it is; the error below names the folder to look in.
      }
    }
    throw toStoreError(e, database);
  }
  return { backupPath: base, moved };
}

/**
 * better-sqlite3 is a native addon built for one ABI. Plain Node (CLI, web mode, tests) uses the build in
 * node_modules; Electron's main process needs a build for Electron's ABI, which `scripts/electron-native.mjs`
 * (run before `npm start`) places elsewhere and the Electron shell names in ANIMATELCM_SQLITE_BINDING.
 */
function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env.ANIMATELCM_SQLITE_BINDING;
  return binding ? { nativeBinding: binding } : {};
}

/**
 * A delete interrupted after its row was gone but before its files were (the sweep puts moved-aside files back,
 * since it cannot tell) leaves `outputs/<id>` with no row. Ids are never reused (AUTOINCREMENT) and a row always
 * exists before its outputs are written, so such a folder belongs to a deleted generation: finish the delete.
 */
function removeOutputsOfDeletedGenerations(sqlite: Database.Database, outputsDir: string): void {
  let names: string[];
  try {
    names = readdirSync(outputsDir);
  } catch {
    return;
  }
  const exists = sqlite.prepare('SELECT 1 FROM generations WHERE id = ?');
  for (const name of names) {
    if (!/^[1-9]\d*$/.test(name) || exists.get(Number(name)) !== undefined) continue;
    try {
      rmSync(join(outputsDir, name), { recursive: true, force: true });
    } catch {
      // Only wasted space; tried again at the next start.
    }
  }
}
