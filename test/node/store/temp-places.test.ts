/**
 * Temporaries outside the data folder (an export or CLI --out beside the creator's files): a process killed while
 * writing one leaves it there; the next start finds the folder through the dead process's record and removes it,
 * and nothing else in that folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database';
import { dataLayout } from '../../../src/main/store/layout';
import { sweepLeftovers } from '../../../src/main/store/recovery';
import { recordTempPlace } from '../../../src/main/store/temp-places';
import { HERE, tempDataDir } from './helpers';

function startWriter(dataDir: string, folder: string): Promise<{ kill(): Promise<void>; tmp: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'temp-place-writer.ts'), dataDir, folder], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return new Promise((resolve, reject) => {
    let buf = '';
    child.on('error', reject);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^ready (.+)\n/.exec(buf);
      if (m) resolve({ tmp: m[1], kill: () => (child.kill('SIGKILL'), exited) });
    });
  });
}

describe('temporaries outside the data folder', () => {
  let dir: string;
  let cleanup: () => void;
  let data: string;
  let mine: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('places-'));
    data = join(dir, 'data');
    mine = join(dir, 'my videos');
    mkdirSync(mine);
    writeFileSync(join(mine, 'holiday.mp4'), 'mine');
    writeFileSync(join(mine, '.tmp-notes'), 'mine too');
  });
  afterEach(() => cleanup());

  it('are left alone while their writer lives and removed at the next start once it was killed', async () => {
    const writer = await startWriter(data, mine);
    expect(existsSync(writer.tmp)).toBe(true);
    expect(readdirSync(dataLayout(data).tempPlaces)).toHaveLength(1);
    openDatabase(data).close(); // a start while the writer still runs
    expect(existsSync(writer.tmp)).toBe(true);

    await writer.kill();
    expect(existsSync(writer.tmp)).toBe(true); // nobody cleans up after SIGKILL…
    openDatabase(data).close(); // …but the next start does
    expect(readdirSync(mine).sort()).toEqual(['.tmp-notes', 'holiday.mp4']);
    expect(readdirSync(dataLayout(data).tempPlaces)).toEqual([]);
  });

  it('a finished writer removes its own record; two pieces of work share one; data-folder places need none', () => {
    const a = recordTempPlace(data, mine);
    const b = recordTempPlace(data, mine);
    expect(readdirSync(dataLayout(data).tempPlaces)).toHaveLength(1);
    a();
    a();
    expect(readdirSync(dataLayout(data).tempPlaces)).toHaveLength(1);
    b();
    expect(readdirSync(dataLayout(data).tempPlaces)).toEqual([]);
    recordTempPlace(data, dataLayout(data).exports)();
    sweepLeftovers(data);
    expect(readdirSync(dataLayout(data).tempPlaces)).toEqual([]);
  });
});
