/** How CLI commands open the studio database: writable when they change something, read-only fallback when they only read. */
import { isStudioError } from '../../shared/errors';
import { openDatabase, type StudioDatabase } from '../store/database';
import type { CliIO } from './command';

export function openForCli(dataDir: string, io: CliIO, opts: { write: boolean }): StudioDatabase {
  try {
    return openDatabase(dataDir);
  } catch (e) {
    // Reading still works on a database from a newer studio or on a read-only disk: say so and go on.
    if (!opts.write && isStudioError(e) && (e.code === 'DB_TOO_NEW' || e.code === 'DB_READONLY')) {
      io.stderr(`Note: ${e.message} Showing it read-only.`);
      return openDatabase(dataDir, { readonly: true });
    }
    throw e;
  }
}
