/**
 * Issue 13 item 1: an export never deletes or replaces anything it did not create. Real exports (ffmpeg) into
 * real folders holding the creator's files, a real data folder (SQLite in WAL mode, outputs/) and the CLI; after
 * every refusal, cancel or failure each file that was there is compared byte for byte and no temporary is left.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/main/cli/command';
import { exportCommand } from '../../../src/main/cli/commands/export';
import { exportClip } from '../../../src/main/export/exporter';
import { locateFfmpeg, type FfmpegTools } from '../../../src/main/export/ffmpeg-locate';
import { ExportService, storeLookup } from '../../../src/main/services/export-service';
import { HistoryService } from '../../../src/main/services/history-service';
import { TimelineService } from '../../../src/main/services/timeline-service';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import type { ExportProgressEvent } from '../../../src/shared/api';
import type { ExportSource } from '../../../src/shared/domain/export';
import { caught, findTool, probe, settle, TEST_PARAMS, writeFrames } from './helpers';

const haveTools = Boolean(findTool('ffmpeg') && findTool('ffprobe'));
const root = mkdtempSync(join(tmpdir(), 'export-destination-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir` (relative path → SHA-256), folders as entries too: what must survive untouched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[`${relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A creator's folder: a few files and a subfolder. */
function userFolder(dir: string): Record<string, string> {
  mkdirSync(join(dir, 'notes'), { recursive: true });
  writeFileSync(join(dir, 'holiday.txt'), 'do not lose me');
  writeFileSync(join(dir, 'frame_0000.png'), 'not a frame, but mine');
  writeFileSync(join(dir, 'notes', 'ideas.md'), '# ideas');
  return snapshot(dir);
}

const framesDir = join(root, 'frames');
beforeAll(() => {
  writeFrames(framesDir, 6, 32, 24, TEST_PARAMS);
});

describe.skipIf(!haveTools)('export destinations (exporter)', () => {
  let tools: FfmpegTools;
  const src: ExportSource = { kind: 'frames', dir: framesDir, fps: 8 };
  beforeAll(() => {
    tools = locateFfmpeg();
  });

  it('a PNG sequence into an existing folder with files is refused and the folder is untouched', async () => {
    const dir = join(root, 'mine');
    const before = userFolder(dir);
    for (const overwrite of [false, true]) {
      const e = await caught(exportClip(src, { format: 'png' }, { out: dir, tools, overwrite }));
      expect(e.code).toBe('EXPORT_TARGET_EXISTS');
      expect(e.message).toMatch(/holds files; a PNG sequence goes into a new or empty folder/);
      expect(snapshot(dir)).toEqual(before);
    }
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a PNG sequence into an empty folder or a new one is fine', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect((await exportClip(src, { format: 'png' }, { out: empty, tools })).frames).toBe(6);
    expect(readdirSync(empty).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `frame_000${i}.png`));
    const fresh = join(root, 'fresh');
    expect((await exportClip(src, { format: 'png' }, { out: fresh, tools })).frames).toBe(6);
    expect(readdirSync(fresh)).toHaveLength(6);
    // Exporting there again is refused: the folder now holds the first export.
    expect((await caught(exportClip(src, { format: 'png' }, { out: fresh, tools }))).code).toBe('EXPORT_TARGET_EXISTS');
  });

  it('an existing file is refused; replaced only when overwrite is asked for, and a folder never', async () => {
    const file = join(root, 'letter.txt');
    writeFileSync(file, 'my letter');
    const e = await caught(exportClip(src, { format: 'mp4' }, { out: file, tools }));
    expect(e.code).toBe('EXPORT_TARGET_EXISTS');
    expect(e.message).toMatch(/already exists\. Choose a new name; nothing was changed/);
    expect(readFileSync(file, 'utf8')).toBe('my letter');
    // A PNG sequence never goes over a file, asked or not.
    expect((await caught(exportClip(src, { format: 'png' }, { out: file, tools, overwrite: true }))).code).toBe('EXPORT_TARGET_EXISTS');
    expect(readFileSync(file, 'utf8')).toBe('my letter');

    const r = await exportClip(src, { format: 'mp4' }, { out: file, tools, overwrite: true });
    expect(r.frames).toBe(6);
    expect(probe(tools.ffprobe!, file).frames).toBe(6);

    const dir = join(root, 'clip.mp4');
    const before = userFolder(dir);
    expect((await caught(exportClip(src, { format: 'mp4' }, { out: dir, tools, overwrite: true }))).code).toBe('EXPORT_TARGET_EXISTS');
    expect(snapshot(dir)).toEqual(before);
  });

  it('a relative path is refused before anything is written', async () => {
    for (const [format, out] of [['mp4', 'relative-export.mp4'], ['png', 'relative-frames']] as const) {
      const e = await caught(exportClip(src, { format }, { out, tools }));
      expect(e.code).toBe('EXPORT_INVALID');
      expect(e.message).toMatch(/is a relative path; give the full path/);
      expect(existsSync(join(process.cwd(), out))).toBe(false);
    }
  });

  it('cancel and failure remove only the temporary: the creator’s files stay as they were', async () => {
    const dir = join(root, 'busy');
    const before = userFolder(dir);
    const controller = new AbortController();
    const cancelled = await caught(
      exportClip(src, { format: 'webm', quality: 'max', loop: 60, scale: { width: 320, height: 240 } }, {
        out: join(dir, 'new.webm'),
        tools,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    );
    expect(cancelled.code).toBe('CANCELLED');
    expect(snapshot(dir)).toEqual(before);

    const broken = join(root, 'broken-frames');
    writeFrames(broken, 3, 32, 24);
    writeFileSync(join(broken, 'frame_0001.png'), 'damaged');
    for (const [format, out] of [['png', join(dir, 'new-frames')], ['gif', join(dir, 'new.gif')], ['mp4', join(dir, 'new.mp4')]] as const) {
      // ffmpeg skips a frame it cannot decode and still exits 0: the frame count catches it.
      const e = await caught(exportClip({ kind: 'frames', dir: broken, fps: 8 }, { format }, { out, tools }));
      expect([format, e.code, e.message]).toEqual([format, 'FFMPEG_FAILED', expect.stringMatching(/wrote [0-2] of the 3 planned frames.*damaged frame/)]);
      expect(snapshot(dir)).toEqual(before);
    }
  });

  // A real full disk: a 256 KiB tmpfs (needs root to mount, so skipped elsewhere) mostly taken by the creator's file.
  const small = join(root, 'small-disk');
  const mounted = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    try {
      mkdirSync(small);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  afterAll(() => {
    if (mounted) execFileSync('umount', [small]);
  });

  it.skipIf(!mounted)('a full disk fails with DISK_FULL in every format, leaving only what was there', async () => {
    writeFileSync(join(small, 'keep.bin'), Buffer.alloc(200 * 1024, 7));
    const before = snapshot(small);
    for (const [format, out] of [['mp4', 'a.mp4'], ['webm', 'a.webm'], ['gif', 'a.gif'], ['png', 'frames']] as const) {
      const e = await caught(exportClip(src, { format, loop: 30, scale: { width: 320, height: 240 } }, { out: join(small, out), tools }));
      expect([format, e.code]).toEqual([format, 'DISK_FULL']);
      expect(snapshot(small)).toEqual(before);
    }
  });
});

function captureIO(): CliIO & { out: string[] } {
  const out: string[] = [];
  return { out, stdout: (t) => void out.push(t), stderr: () => undefined, isTTY: false };
}

describe.skipIf(!haveTools)('export destinations (service and CLI over a real data folder)', () => {
  const dataDir = join(root, 'data');
  let db: StudioDatabase;
  let gen: number;
  let mixed: number;

  beforeAll(async () => {
    db = openDatabase(dataDir);
    const history = new HistoryService(db);
    const finished = async (n: number, side: number) => {
      const r = await history.createGeneration({ ...TEST_PARAMS, width: side, height: side, frames: n }, { noise: { name: 'torch-cpu', version: '1' }, engineVersion: 'test' });
      await history.markRunning(r.id);
      const dir = join(history.outputDirFor(r.id), 'frames');
      writeFrames(dir, n, side, side, TEST_PARAMS, side);
      await history.markDone(r.id, { framesDir: dir, frameCount: n, videos: [], thumbnail: null });
      return r.id;
    };
    gen = await finished(6, 32);
    const genSmall = await finished(5, 16);
    const timelines = new TimelineService(db);
    mixed = (await timelines.createTimeline('mixed sizes')).id;
    await timelines.addClip(mixed, gen);
    await timelines.addClip(mixed, genSmall);
  });
  afterAll(() => db?.close());

  const service = (events: ExportProgressEvent[]) => new ExportService({ dataDir, lookup: storeLookup(db), emit: (e) => events.push(e) });

  it('the data folder itself, and anything in it but exports/, is never a target', async () => {
    expect(readdirSync(dataDir)).toEqual(expect.arrayContaining(['studio.db', 'studio.db-wal', 'outputs']));
    const before = snapshot(dataDir);
    const link = join(root, 'link-to-data');
    symlinkSync(dataDir, link);
    const targets: Array<[string, 'png' | 'mp4' | 'gif']> = [
      [dataDir, 'png'],
      [join(dataDir, 'outputs'), 'png'],
      [join(dataDir, 'exports'), 'png'],
      [join(dataDir, 'clip.mp4'), 'mp4'],
      [join(dataDir, 'outputs', 'clip.gif'), 'gif'],
      [join(link, 'clip.mp4'), 'mp4'],
    ];
    for (const [outputPath, format] of targets) {
      const events: ExportProgressEvent[] = [];
      const { exportId } = await service(events).exportClip(gen, { format, outputPath, overwrite: true });
      const end = await settle(events, exportId);
      expect([outputPath, end.status, end.error?.code]).toEqual([outputPath, 'failed', 'EXPORT_INVALID']);
      expect(end.error?.message).toMatch(/inside the studio's data folder/);
    }
    const after = snapshot(dataDir);
    // exports/ may now exist (empty); everything else byte for byte as before (the WAL is checkpointed only on close).
    delete after['exports/'];
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(before)) if (!k.startsWith('studio.db')) expect(after[k], k).toBe(before[k]);
  });

  it('default and named exports land in exports/; exporting again never replaces the earlier file', async () => {
    const events: ExportProgressEvent[] = [];
    const s = service(events);
    const paths: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { exportId } = await s.exportClip(gen, { format: 'gif' });
      const end = await settle(events, exportId);
      expect(end.status).toBe('done');
      paths.push(end.outputPath!);
    }
    expect(paths).toEqual([join(dataDir, 'exports', `generation-${gen}.gif`), join(dataDir, 'exports', `generation-${gen}-2.gif`)]);

    const named = await settle(events, (await s.exportTimeline(mixed, { format: 'mp4', name: 'story' })).exportId);
    expect(named).toMatchObject({ status: 'done', outputPath: join(dataDir, 'exports', 'story.mp4') });
    const first = readFileSync(named.outputPath!);
    const again = await settle(events, (await s.exportTimeline(mixed, { format: 'mp4', name: 'story.mp4', quality: 10 })).exportId);
    expect([again.status, again.error?.code]).toEqual(['failed', 'EXPORT_TARGET_EXISTS']);
    expect(readFileSync(named.outputPath!).equals(first)).toBe(true);
    const replaced = await settle(events, (await s.exportTimeline(mixed, { format: 'mp4', name: 'story', quality: 10, overwrite: true })).exportId);
    expect(replaced.status).toBe('done');
    expect(readFileSync(named.outputPath!).equals(first)).toBe(false);

    await expect(s.exportClip(gen, { format: 'mp4', name: '../escape' })).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
    await expect(s.exportClip(gen, { format: 'mp4', name: '.hidden' })).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
    await expect(s.exportClip(gen, { format: 'mp4', name: 'a:b' })).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
    await expect(s.exportClip(gen, { format: 'mp4', name: 'a', outputPath: join(root, 'a.mp4') })).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
  });

  it('CLI: refuses a folder with files, an existing file without --overwrite, a relative path and the data folder', async () => {
    const io = captureIO();
    const dir = join(root, 'cli-mine');
    const before = userFolder(dir);
    const run = (...args: string[]) => exportCommand.run([String(gen), '--data-dir', dataDir, ...args], io);
    await expect(run('--format', 'png', '--out', dir)).rejects.toMatchObject({ code: 'EXPORT_TARGET_EXISTS' });
    await expect(run('--format', 'mp4', '--out', join(dir, 'holiday.txt'))).rejects.toMatchObject({ code: 'EXPORT_TARGET_EXISTS', message: expect.stringMatching(/add --overwrite/) });
    await expect(run('--format', 'png', '--out', 'cli-relative')).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
    await expect(run('--format', 'png', '--out', dataDir, '--overwrite')).rejects.toMatchObject({ code: 'EXPORT_INVALID' });
    expect(snapshot(dir)).toEqual(before);

    expect(await run('--format', 'mp4', '--out', join(dir, 'holiday.txt'), '--overwrite', '--json')).toBe(0);
    expect(JSON.parse(io.out[0])).toMatchObject({ format: 'mp4', frames: 6 });
    expect(probe(findTool('ffprobe')!, join(dir, 'holiday.txt')).codec).toBe('h264');
  });

  it('CLI: a timeline of 32² and 16² clips as GIF reports the frame count ffprobe finds', async () => {
    const io = captureIO();
    const gif = join(root, 'mixed.gif');
    expect(await exportCommand.run([`timeline:${mixed}`, '--out', gif, '--data-dir', dataDir], io)).toBe(0);
    const reported = Number(/^Exported (\d+) frames/.exec(io.out[0])?.[1]);
    expect([reported, probe(findTool('ffprobe')!, gif).frames]).toEqual([11, 11]);
  });
});
