import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitFile, commitOutputDir, createTemporaryDir, discardTemporary, sweepTemporaries, temporarySibling, writeFileAtomic } from '../../../src/main/store/atomic-files';
import { OWNER_MARKER, PROCESS_OWNER, processStartMark } from '../../../src/main/store/process-owner';
import { tempDataDir } from './helpers';

describe('atomic files', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDataDir('atomic-')));
  afterEach(() => cleanup());

  it('writeFileAtomic creates folders, replaces whole files and leaves no temporaries', async () => {
    const file = join(dir, 'a', 'b', 'params.json');
    await writeFileAtomic(file, '{"v":1}');
    await writeFileAtomic(file, new Uint8Array([123, 125]));
    expect(readFileSync(file, 'utf8')).toBe('{}');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['params.json']);
  });

  it('commitOutputDir publishes a folder in one rename and refuses to clobber unless asked', async () => {
    const final = join(dir, 'outputs', '7');
    const tmp = await createTemporaryDir(final);
    expect(tmp.startsWith(join(dir, 'outputs', `.tmp-${OWNER_MARKER}-`))).toBe(true);
    writeFileSync(join(tmp, '0000.png'), 'frame0');
    writeFileSync(join(tmp, '0001.png'), 'frame1');
    expect(existsSync(final)).toBe(false);
    await commitOutputDir(tmp, final);
    expect(readdirSync(final).sort()).toEqual(['0000.png', '0001.png']);
    expect(existsSync(tmp)).toBe(false);

    const tmp2 = await createTemporaryDir(final);
    writeFileSync(join(tmp2, 'only.png'), 'new');
    await expect(commitOutputDir(tmp2, final)).rejects.toMatchObject({ code: 'EEXIST' });
    await commitOutputDir(tmp2, final, { replace: true });
    expect(readdirSync(final)).toEqual(['only.png']);
    expect(readdirSync(join(dir, 'outputs'))).toEqual(['7']);
  });

  it('commitFile moves a file written by someone else into place; discardTemporary never throws', async () => {
    const final = join(dir, 'exports', 'clip.mp4');
    const tmp = temporarySibling(join(dir, 'clip.mp4'));
    writeFileSync(tmp, 'encoded');
    await commitFile(tmp, final);
    expect(readFileSync(final, 'utf8')).toBe('encoded');
    await discardTemporary(join(dir, 'never-existed'));
  });

  it('sweeps temporaries of dead processes only: half-writes removed, half-deletes put back or finished', () => {
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const names = [
      `.tmp-${deadPid}-00000000-x`,
      `.deleting-${deadPid}-00000000-y`, // 'y' is gone: the operation never committed, so y comes back
      `.deleting-${deadPid}-00000000-12`, // '12' is back in place (a replace that finished): the old copy goes
      `.tmp-${process.pid}-00000000-z`,
      `.tmp-${process.ppid}-00000000-w`,
      'keep.png',
      '12',
    ];
    for (const n of names) mkdirSync(join(dir, n));
    const removed = sweepTemporaries(dir);
    expect(removed.sort()).toEqual([join(dir, `.deleting-${deadPid}-00000000-12`), join(dir, `.tmp-${deadPid}-00000000-x`)].sort());
    expect(readdirSync(dir).sort()).toEqual([...names.slice(3), 'y'].sort());
    expect(sweepTemporaries(join(dir, 'missing'))).toEqual([]);
  });

  it('leaves names that are not ours alone (a creator’s own .tmp- files), even in a folder of dead temporaries', () => {
    const deadPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const names = ['.tmp-notes.txt', '.tmp-12-draft', `.tmp-${deadPid}-xyz-mine`, '.deleting-old', `.tmp-${deadPid}-0000000g-z`];
    for (const n of names) writeFileSync(join(dir, n), 'keep');
    mkdirSync(join(dir, `.tmp-${deadPid}-0123abcd-ours`));
    expect(sweepTemporaries(dir)).toEqual([join(dir, `.tmp-${deadPid}-0123abcd-ours`)]);
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });

  it('tells a dead writer from a later process that got its pid: the owner marker carries the start time', () => {
    if (PROCESS_OWNER.start === undefined) return; // no /proc: markers are pids only, as before
    expect(OWNER_MARKER).toBe(`${process.pid}.${processStartMark(process.pid)}`);
    // Our pid with another start time: a previous process (say the CLI in a container, pid 7 every run) that died.
    const recycled = `.tmp-${process.pid}.${PROCESS_OWNER.start}0-0123abcd-clip.mp4`;
    const ours = temporarySibling(join(dir, 'clip.mp4'));
    const parentOld = `.tmp-${process.ppid}.1-0123abcd-x`; // the live parent's pid, but started at another time
    const parentNow = `.tmp-${process.ppid}.${processStartMark(process.ppid)}-0123abcd-y`;
    for (const p of [join(dir, recycled), ours, join(dir, parentOld), join(dir, parentNow)]) writeFileSync(p, 'x');
    expect(sweepTemporaries(dir).sort()).toEqual([join(dir, parentOld), join(dir, recycled)].sort());
    expect(existsSync(ours)).toBe(true);
    expect(existsSync(join(dir, parentNow))).toBe(true);
  });
});
