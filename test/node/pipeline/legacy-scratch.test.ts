import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepLegacyScratch } from '../../../src/main/cli/legacy-scratch';

describe('scratch folders earlier versions left in the system temp folder', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'legacy-scratch-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('go when their writer is dead or they sat idle for an hour; anything else stays', () => {
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const make = (name: string, child: string, ageMs = 0): void => {
      mkdirSync(join(dir, name, child), { recursive: true });
      writeFileSync(join(dir, name, child, 'frame_0000.png'), 'png');
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(join(dir, name), t, t);
    };
    make('animatelcm-generate-killedWhileWriting', `.tmp-${deadPid}-0123abcd-frames`);
    make('animatelcm-generate-killedWhileEncoding', 'frames', 2 * 60 * 60 * 1000);
    make('animatelcm-generate-encodingNow', 'frames', 10_000);
    make('animatelcm-generate-writingNow', `.tmp-${process.pid}-0123abcd-frames`, 2 * 60 * 60 * 1000);
    make('someone-elses-folder', `.tmp-${deadPid}-0123abcd-frames`, 2 * 60 * 60 * 1000);

    const removed = sweepLegacyScratch(dir).map((p) => p.slice(dir.length + 1));
    expect(removed.sort()).toEqual(['animatelcm-generate-killedWhileEncoding', 'animatelcm-generate-killedWhileWriting']);
    expect(readdirSync(dir).sort()).toEqual(['animatelcm-generate-encodingNow', 'animatelcm-generate-writingNow', 'someone-elses-folder']);
    expect(sweepLegacyScratch(join(dir, 'missing'))).toEqual([]);
  });
});
