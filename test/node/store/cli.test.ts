import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../cli-in-process';
import { writeFileAtomic } from '../../../src/main/store/atomic-files';
import { openDatabase } from '../../../src/main/store/database';
import { HistoryService } from '../../../src/main/services/history-service';
import type { GenerationPage, DeleteGenerationResult } from '../../../src/shared/domain/history';
import type { ImportResult, LibraryItem } from '../../../src/shared/domain/library';
import { LORA_KOHYA, META, params, tempDataDir } from './helpers';

/** Run the CLI in-process and capture what it prints. */
describe('CLI: history and library', () => {
  let dir: string;
  let data: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('cli-'));
    data = join(dir, 'data');
  });
  afterEach(() => {
    delete process.env.ANIMATELCM_DATA_DIR;
    cleanup();
  });

  async function seedHistory(): Promise<number> {
    const db = openDatabase(data);
    try {
      const h = new HistoryService(db);
      const g = await h.createGeneration(params({ prompt: 'a lighthouse in a storm', seed: 1234 }), META);
      await h.markRunning(g.id);
      const video = join(h.outputDirFor(g.id), 'clip.mp4');
      await writeFileAtomic(video, 'mp4');
      await h.markDone(g.id, { framesDir: null, frameCount: 16, videos: [video], thumbnail: null }, { denoise: 900 });
      return g.id;
    } finally {
      db.close();
    }
  }

  it('library import / list / remove, by reference and by copy, as text and JSON', async () => {
    const imp = await cli('library', 'import', LORA_KOHYA, '--data-dir', data, '--json');
    expect(imp.code).toBe(0);
    const res = JSON.parse(imp.out) as ImportResult;
    expect(res).toMatchObject({ existing: false, item: { kind: 'lora', storage: 'reference', path: LORA_KOHYA } });

    const again = await cli('library', 'import', LORA_KOHYA, '--copy', '--data-dir', data);
    expect(again.out).toContain('Already in the library');

    const list = await cli('library', 'list', '--data-dir', data);
    expect(list.out).toContain(res.item.autov2);
    expect(list.out).toContain('lora_kohya');
    const listed = JSON.parse((await cli('library', 'list', '--kind', 'checkpoint', '--data-dir', data, '--json')).out) as LibraryItem[];
    expect(listed).toEqual([]);

    const rm = await cli('library', 'remove', String(res.item.id), '--data-dir', data);
    expect(rm.code).toBe(0);
    expect(rm.out).toContain('your file was not touched');
    expect(existsSync(LORA_KOHYA)).toBe(true);
    expect(JSON.parse((await cli('library', 'list', '--data-dir', data, '--json')).out)).toEqual([]);
  });

  it('history list / show / reroll / rerun / delete with --data-dir and ANIMATELCM_DATA_DIR', async () => {
    const id = await seedHistory();
    process.env.ANIMATELCM_DATA_DIR = data;

    const list = await cli('history', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain(`#${id}`);
    expect(list.out).toContain('a lighthouse in a storm');
    const page = JSON.parse((await cli('history', 'list', '--search', 'lighthouse', '--json')).out) as GenerationPage;
    expect(page.items.map((r) => r.id)).toEqual([id]);
    expect((JSON.parse((await cli('history', 'list', '--search', 'castle', '--json')).out) as GenerationPage).total).toBe(0);

    const show = await cli('history', 'show', String(id));
    expect(show.out).toContain('seed 1234');
    expect(show.out).toContain('denoise 900 ms');

    // reroll/rerun generate (test/node/pipeline/cli.test.ts); here only what they refuse.
    const missing = await cli('history', 'reroll', '999', '--json');
    expect(missing.code).toBe(1);
    expect((JSON.parse(missing.out) as { error: { code: string } }).error.code).toBe('NOT_FOUND');

    const del = JSON.parse((await cli('history', 'delete', String(id), '--json', '--data-dir', data)).out) as DeleteGenerationResult;
    expect(del.removedFiles).toEqual([join(data, 'outputs', String(id))]);
    expect(readdirSync(join(data, 'outputs'))).toEqual([]);
    const gone = await cli('history', 'show', String(id), '--json');
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.out).error.code).toBe('NOT_FOUND');
  });

  it('answers usage errors with a message and exit code, and reads a newer database read-only', async () => {
    expect((await cli('history', 'frobnicate', '--data-dir', data)).code).toBe(2);
    const bad = await cli('history', 'show', 'abc', '--data-dir', data);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('positive whole number');
    expect((await cli('library', 'list', '--kind', 'upscaler', '--data-dir', data)).err).toContain('--kind must be one of');

    const id = await seedHistory();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(join(data, 'studio.db'));
    raw.pragma('user_version = 99');
    raw.close();
    const list = await cli('history', 'list', '--data-dir', data);
    expect(list.code).toBe(0);
    expect(list.err).toContain('newer version');
    expect(list.out).toContain(`#${id}`);
    const del = await cli('history', 'delete', String(id), '--data-dir', data);
    expect(del.code).toBe(1);
    expect(del.err).toContain('DB_TOO_NEW');
  });
});
