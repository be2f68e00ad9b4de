import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database';
import { HistoryService } from '../../../src/main/services/history-service';
import { META, params, tempDataDir } from './helpers';

/** A pid that is certainly not running (above Linux's pid_max). */
const DEAD_PID = 4_194_305;

/**
 * deleteGeneration moves the outputs aside, deletes the row, then removes the files. A crash can stop it between
 * any two of those; the next start must leave no row pointing at missing files and, once the row is gone, no files.
 */
describe('a delete interrupted by a crash', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  async function doneGeneration(dataDir: string): Promise<{ id: number; dir: string }> {
    const db = openDatabase(dataDir);
    try {
      const history = new HistoryService(db);
      const g = await history.createGeneration(params(), META);
      await history.markRunning(g.id);
      const dir = history.outputDirFor(g.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '0000.png'), Buffer.alloc(10, 7));
      await history.markDone(g.id, { framesDir: dir, frameCount: 1, videos: [], thumbnail: join(dir, '0000.png') }, {});
      return { id: g.id, dir };
    } finally {
      db.close();
    }
  }

  it('before the row was deleted: the moved-aside outputs are put back for the row that still points at them', async () => {
    const t = tempDataDir('interrupted-delete-');
    cleanup = t.cleanup;
    const { id, dir } = await doneGeneration(t.dir);
    // What the killed process had done: its outputs renamed to its trash name, the row not yet deleted.
    const trash = join(dir, '..', `.deleting-${DEAD_PID}-0badf00d-${id}`);
    renameSync(dir, trash);

    const db = openDatabase(t.dir);
    try {
      const rec = await new HistoryService(db).getGeneration(id);
      expect(rec.status).toBe('done');
      expect(readdirSync(rec.outputs!.framesDir!)).toEqual(['0000.png']);
      expect(existsSync(trash)).toBe(false);
    } finally {
      db.close();
    }
  });

  it('after the row was deleted: the leftover files are removed at the next start', async () => {
    const t = tempDataDir('interrupted-delete-');
    cleanup = t.cleanup;
    const { id, dir } = await doneGeneration(t.dir);
    const trash = join(dir, '..', `.deleting-${DEAD_PID}-0badf00d-${id}`);
    renameSync(dir, trash);
    const db = openDatabase(t.dir, { recover: false });
    db.sqlite.prepare('DELETE FROM generations WHERE id = ?').run(id);
    db.close();

    openDatabase(t.dir).close();
    expect(existsSync(trash)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  it('never touches the moved-aside files of a process that is still running', async () => {
    const t = tempDataDir('interrupted-delete-');
    cleanup = t.cleanup;
    const { id, dir } = await doneGeneration(t.dir);
    const trash = join(dir, '..', `.deleting-${process.ppid}-0badf00d-${id}`);
    renameSync(dir, trash);
    openDatabase(t.dir).close();
    expect(existsSync(trash)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
