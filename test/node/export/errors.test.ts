/**
 * Bad cases: ffmpeg missing, nothing to export, destinations that cannot be written, a full disk, cancel.
 * Each must fail with a clear StudioError and leave no partial file behind.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportClip } from '../../../src/main/export/exporter';
import { buildFfmpegArgs } from '../../../src/main/export/ffmpeg-args';
import { locateFfmpeg, type FfmpegTools } from '../../../src/main/export/ffmpeg-locate';
import { writeError } from '../../../src/main/export/fs-errors';
import { listFrames } from '../../../src/main/export/frame-plan';
import { runFfmpeg } from '../../../src/main/export/run-ffmpeg';
import type { ExportProgress } from '../../../src/shared/domain/export';
import { StudioError } from '../../../src/shared/errors';
import { caught, findTool, writeFrames } from './helpers';

const ffmpegPath = findTool('ffmpeg');
const root = mkdtempSync(join(tmpdir(), 'export-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function caughtSync(f: () => unknown): StudioError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StudioError);
    return e as StudioError;
  }
  throw new Error('expected a failure');
}

const framesDir = join(root, 'frames');
beforeAll(() => {
  writeFrames(framesDir, 10, 64, 48);
});

describe('locating ffmpeg', () => {
  it('names the three places it looked when none has ffmpeg', () => {
    const emptyBin = join(root, 'empty-bin');
    mkdirSync(emptyBin);
    const e = caughtSync(() => locateFfmpeg({ env: { PATH: emptyBin }, staticPath: null }));
    expect(e.code).toBe('FFMPEG_NOT_FOUND');
    expect(e.message).toMatch(/1\) the ffmpeg-static package \(not installed\)/);
    expect(e.message).toMatch(/2\) the FFMPEG_PATH environment variable \(not set\)/);
    expect(e.message).toContain(`3) "ffmpeg" on PATH (${emptyBin})`);
    expect(e.details?.looked).toHaveLength(3);

    const broken = caughtSync(() => locateFfmpeg({ env: { FFMPEG_PATH: join(root, 'nope', 'ffmpeg') }, staticPath: join(root, 'static', 'ffmpeg') }));
    expect(broken.message).toContain(`${join(root, 'static', 'ffmpeg')} did not run`);
    expect(broken.message).toContain(`FFMPEG_PATH (${join(root, 'nope', 'ffmpeg')} did not run)`);
    expect(broken.message).toContain('PATH is empty');
  });

  it('rejects a file that exists but is not a working program', () => {
    const fake = join(root, 'fake-ffmpeg');
    writeFileSync(fake, '#!/bin/sh\nexit 3\n');
    chmodSync(fake, 0o755);
    expect(caughtSync(() => locateFfmpeg({ env: { FFMPEG_PATH: fake }, staticPath: null })).code).toBe('FFMPEG_NOT_FOUND');
  });

  it.skipIf(!ffmpegPath)('takes ffmpeg-static first, then FFMPEG_PATH, then PATH, with ffprobe beside it', () => {
    const bin = dirname(ffmpegPath!);
    expect(locateFfmpeg({ env: {}, staticPath: ffmpegPath! })).toMatchObject({ ffmpeg: ffmpegPath, source: 'ffmpeg-static' });
    expect(locateFfmpeg({ env: { FFMPEG_PATH: ffmpegPath! }, staticPath: null })).toMatchObject({ ffmpeg: ffmpegPath, source: 'FFMPEG_PATH' });
    const viaPath = locateFfmpeg({ env: { PATH: `${join(root, 'empty-bin')}:${bin}` }, staticPath: null });
    expect(viaPath).toMatchObject({ ffmpeg: join(bin, 'ffmpeg'), source: 'PATH' });
    if (findTool('ffprobe')) expect(viaPath.ffprobe).toBe(join(bin, 'ffprobe'));
  });

  it('an ffmpeg that cannot be started fails the export cleanly', async () => {
    const outDir = join(root, 'out-missing');
    mkdirSync(outDir);
    const e = await caught(exportClip({ kind: 'frames', dir: framesDir, fps: 8 }, { format: 'mp4' }, { out: join(outDir, 'x.mp4'), tools: { ffmpeg: join(root, 'no-such-ffmpeg'), source: 'PATH' } }));
    expect(e.code).toBe('FFMPEG_NOT_FOUND');
    expect(readdirSync(outDir)).toEqual([]);
  });
});

describe.skipIf(!ffmpegPath)('bad exports (real ffmpeg)', () => {
  let tools: FfmpegTools;
  beforeAll(() => {
    tools = locateFfmpeg();
  });

  it('zero frames: nothing to export, nothing written', async () => {
    const empty = join(root, 'no-frames');
    mkdirSync(empty);
    const outDir = join(root, 'out-zero');
    mkdirSync(outDir);
    const e = await caught(exportClip({ kind: 'frames', dir: empty, fps: 8 }, { format: 'gif' }, { out: join(outDir, 'x.gif'), tools }));
    expect(e.code).toBe('EXPORT_INVALID');
    expect(e.message).toMatch(/holds no PNG frames/);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('destinations that cannot be written', async () => {
    const src = { kind: 'frames' as const, dir: framesDir, fps: 8 };
    const missing = await caught(exportClip(src, { format: 'mp4' }, { out: join(root, 'no-such-dir', 'x.mp4'), tools }));
    expect(missing.code).toBe('FILE_NOT_FOUND');
    expect(missing.message).toMatch(/folder does not exist/);

    const aFile = join(root, 'a-file');
    writeFileSync(aFile, 'x');
    expect((await caught(exportClip(src, { format: 'mp4' }, { out: join(aFile, 'x.mp4'), tools }))).code).toBe('FILE_NOT_FOUND');

    const aDir = join(root, 'a-dir.mp4');
    mkdirSync(aDir);
    expect((await caught(exportClip(src, { format: 'mp4' }, { out: aDir, tools }))).message).toMatch(/already exists as a folder/);

    const kept = join(root, 'kept.webm');
    writeFileSync(kept, 'old');
    expect((await caught(exportClip(src, { format: 'webm' }, { out: kept, tools }))).message).toMatch(/already exists/);
  });

  it.skipIf(process.platform !== 'linux')('a folder without write permission (/sys, read-only even for root)', async () => {
    const e = await caught(exportClip({ kind: 'frames', dir: framesDir, fps: 8 }, { format: 'mp4' }, { out: '/sys/animatelcm-test.mp4', tools }));
    expect(e.code).toBe('FILE_UNWRITABLE');
    expect(e.message).toMatch(/permission denied/);
  });

  it.skipIf(process.platform !== 'linux')('a full disk reads DISK_FULL (ffmpeg writing to /dev/full)', async () => {
    const files = listFrames(framesDir);
    const args = buildFfmpegArgs({
      format: 'webm', fps: 8, source: { width: 64, height: 48 }, target: { width: 64, height: 48 }, mixedSizes: false, plays: 1, output: '/dev/full',
    });
    const e = await caught(runFfmpeg({ ffmpeg: tools.ffmpeg, args, inputFiles: files, output: '/dev/full', totalFrames: files.length }));
    expect(e.code).toBe('DISK_FULL');
    expect(e.message).toMatch(/disk is full/);
  });

  it('maps file-system errors from our own writes', () => {
    expect(writeError(Object.assign(new Error('no space'), { code: 'ENOSPC' }), '/x/y.gif').code).toBe('DISK_FULL');
    expect(writeError(Object.assign(new Error('ro'), { code: 'EROFS' }), '/x/y.gif').code).toBe('FILE_UNWRITABLE');
    expect(writeError(Object.assign(new Error('gone'), { code: 'ENOENT' }), '/x/y.gif').code).toBe('FILE_NOT_FOUND');
  });

  it('cancel kills ffmpeg and removes the partial file', async () => {
    const outDir = join(root, 'out-cancel');
    mkdirSync(outDir);
    const controller = new AbortController();
    const events: ExportProgress[] = [];
    // 10 frames × 40 plays, scaled up, at VP9's slowest preset: seconds of work, cancelled at the first report.
    const timer = setTimeout(() => controller.abort(), 1500);
    const started = Date.now();
    const e = await caught(
      exportClip(
        { kind: 'frames', dir: framesDir, fps: 8 },
        { format: 'webm', quality: 'max', loop: 40, scale: { width: 320, height: 240 } },
        {
          out: join(outDir, 'x.webm'),
          tools,
          signal: controller.signal,
          onProgress: (p) => {
            events.push(p);
            controller.abort();
          },
        },
      ),
    );
    clearTimeout(timer);
    expect(e.code).toBe('CANCELLED');
    expect(events.every((p) => !p.done)).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(readdirSync(outDir)).toEqual([]);

    const pre = new AbortController();
    pre.abort();
    expect((await caught(exportClip({ kind: 'frames', dir: framesDir, fps: 8 }, { format: 'gif' }, { out: join(outDir, 'y.gif'), tools, signal: pre.signal }))).code).toBe('CANCELLED');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('rejects bad options before doing any work', async () => {
    const src = { kind: 'frames' as const, dir: framesDir, fps: 8 };
    const out = join(root, 'opts.mp4');
    expect((await caught(exportClip(src, { format: 'mov' as 'mp4' }, { out, tools }))).message).toMatch(/Unknown export format "mov"/);
    expect((await caught(exportClip(src, { format: 'mp4', crf: 70 }, { out, tools }))).message).toMatch(/CRF 70 is out of range/);
    expect((await caught(exportClip(src, { format: 'mp4', scale: { width: 0, height: 0 } }, { out, tools }))).message).toMatch(/Scale 0x0 is invalid/);
  });
});
