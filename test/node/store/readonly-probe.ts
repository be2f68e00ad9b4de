/**
 * Child process for database.test.ts: opens a data folder it may not write (run as another user, or on a
 * chmod-ed folder) normally and then read-only, and prints what happened as one JSON line.
 */
import { openDatabase } from '../../../src/main/store/database';
import { isStudioError } from '../../../src/shared/errors';

const dir = process.argv[2];
const result: Record<string, unknown> = {};
for (const readonly of [false, true]) {
  try {
    const db = openDatabase(dir, { readonly });
    result[readonly ? 'readonly' : 'writable'] = { ok: true, prompts: db.sqlite.prepare('SELECT prompt FROM generations ORDER BY id').pluck().all() };
    db.close();
  } catch (e) {
    result[readonly ? 'readonly' : 'writable'] = { ok: false, code: isStudioError(e) ? e.code : String(e), message: e instanceof Error ? e.message : String(e) };
  }
}
process.stdout.write(JSON.stringify(result) + '\n');
