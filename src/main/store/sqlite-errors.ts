import { StudioError } from '../../shared/errors';

/**
 * SQLite and file-system failures, turned into errors a creator can act on. better-sqlite3 throws SqliteError with
 * `code` set to the extended result name (SQLITE_FULL, SQLITE_CORRUPT_VTAB, SQLITE_READONLY_DBMOVED, …), so the
 * prefix decides.
 */
export function toStoreError(e: unknown, dbPath: string): unknown {
  if (e instanceof StudioError) return e;
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return e;
  const cause = e instanceof Error ? e.message : String(e);
  const details = { path: dbPath, sqliteCode: code, cause };
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    return new StudioError('DISK_FULL', `The disk holding the studio database is full (${dbPath}). Free some space and try again; nothing was saved from this step.`, details, { cause: e });
  }
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) {
    return new StudioError('DB_CORRUPT', `The studio database ${dbPath} is damaged. Open it read-only to look at what can still be read, or back it up and start fresh (the damaged file is kept).`, details, { cause: e });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StudioError('DB_READONLY', `The studio cannot write its database ${dbPath} (the file or its folder is read-only). Choose a writable data folder, or open it read-only to browse.`, details, { cause: e });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StudioError('INTERNAL', `The studio database ${dbPath} is busy in another program for too long. Close other copies of the studio and try again.`, details, { cause: e });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new StudioError('FILE_UNREADABLE', `Reading or writing the studio database ${dbPath} failed (${cause}). Check the disk.`, details, { cause: e });
  }
  return e;
}
