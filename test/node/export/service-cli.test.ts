/**
 * Export from the studio's own records: a real data folder (SQLite store, history and timeline services), the
 * ExportService's job API with its events and cancel, and the `export` / `import-params` CLI commands.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../../src/main/cli/commands/export';
import { importParamsCommand } from '../../../src/main/cli/commands/import-params';
import type { CliIO } from '../../../src/main/cli/command';
import { readEmbeddedParams } from '../../../src/main/export/embedded-params';
import { ExportService, fromApiOptions, storeLookup } from '../../../src/main/services/export-service';
import { HistoryService } from '../../../src/main/services/history-service';
import { TimelineService } from '../../../src/main/services/timeline-service';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { dataLayout } from '../../../src/main/store/layout';
import type { ExportProgressEvent } from '../../../src/shared/api';
import type { GenerationParams } from '../../../src/shared/domain/generation';
import { StudioError } from '../../../src/shared/errors';
import { findTool, probe, settle, TEST_PARAMS, writeFrames } from './helpers';

const haveTools = Boolean(findTool('ffmpeg') && findTool('ffprobe'));
const dataDir = mkdtempSync(join(tmpdir(), 'export-service-'));
const MODEL_HASH = 'cd'.repeat(32);

function captureIO(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false };
}

describe.skipIf(!haveTools)('ExportService and CLI over a real data folder', () => {
  let db: StudioDatabase;
  let history: HistoryService;
  let genA: number;
  let genB: number;
  let queued: number;
  let timelineId: number;
  const paramsB: GenerationParams = { ...TEST_PARAMS, prompt: 'a second clip', seed: 7, loras: [] };

  async function finished(params: GenerationParams, n: number, offset: number): Promise<number> {
    const r = await history.createGeneration(params, { noise: { name: 'torch-cpu', version: '1' }, engineVersion: 'test', hashes: { model: MODEL_HASH } });
    await history.markRunning(r.id);
    const framesDir = join(history.outputDirFor(r.id), 'frames');
    writeFrames(framesDir, n, 64, 48, params, offset);
    await history.markDone(r.id, { framesDir, frameCount: n, videos: [], thumbnail: null });
    return r.id;
  }

  beforeAll(async () => {
    db = openDatabase(dataDir);
    history = new HistoryService(db);
    genA = await finished(TEST_PARAMS, 10, 0);
    genB = await finished(paramsB, 8, 30);
    queued = (await history.createGeneration(TEST_PARAMS, { noise: { name: 'torch-cpu', version: '1' }, engineVersion: 'test' })).id;
    const timelines = new TimelineService(db);
    timelineId = (await timelines.createTimeline('story')).id;
    await timelines.addClip(timelineId, genA, { inFrame: 2, outFrame: 8 });
    await timelines.addClip(timelineId, genB, { speed: 2 });
  });
  afterAll(() => {
    db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function service(events: ExportProgressEvent[]): ExportService {
    return new ExportService({ dataDir, lookup: storeLookup(db), emit: (e) => events.push(e) });
  }

  it('exports a history record into exports/ with its parameters and model hash', async () => {
    const events: ExportProgressEvent[] = [];
    const { exportId } = await service(events).exportClip(genA, { format: 'gif', quality: 80 });
    const end = await settle(events, exportId);
    expect(end).toMatchObject({ status: 'done', fraction: 1 });
    expect(end.outputPath).toBe(join(dataDir, 'exports', `generation-${genA}.gif`));
    expect(events[0]).toMatchObject({ exportId, status: 'queued' });
    const back = await readEmbeddedParams(end.outputPath!);
    expect(back.params).toEqual(TEST_PARAMS);
    expect(back.text).toContain('Model hash: cdcdcdcdcd');
    expect(probe(findTool('ffprobe')!, end.outputPath!).frames).toBe(10);
  });

  it('exports a timeline: clips in order, trimmed and at their speeds', async () => {
    const events: ExportProgressEvent[] = [];
    const outputPath = join(dataDir, 'exports', 'story.mp4');
    const { exportId } = await service(events).exportTimeline(timelineId, { format: 'mp4', outputPath });
    expect(await settle(events, exportId)).toMatchObject({ status: 'done', outputPath });
    // 6 trimmed frames of A, then B's 8 frames at double speed = 4.
    const info = probe(findTool('ffprobe')!, outputPath);
    expect([info.frames, info.width, info.height]).toEqual([10, 64, 48]);
    expect((await readEmbeddedParams(outputPath)).params).toEqual(TEST_PARAMS);
  });

  it('cancels a running export by id, leaving nothing behind', async () => {
    const events: ExportProgressEvent[] = [];
    const s = service(events);
    const o = fromApiOptions({ format: 'webm', quality: 100, width: 320, height: 240 });
    expect(o).toEqual({ format: 'webm', quality: 'max', scale: { width: 320, height: 240 } });
    const { source } = await s.generationJob(genA, o);
    const { exportId } = await s.exportClip(genA, { format: 'webm', quality: 100, width: 320, height: 240, outputPath: join(dataDir, 'exports', 'c.webm') });
    await s.cancelExport(exportId);
    expect(await settle(events, exportId)).toMatchObject({ status: 'cancelled' });
    expect(readdirSync(join(dataDir, 'exports')).filter((n) => n.startsWith('.') || n === 'c.webm')).toEqual([]);
    expect(source.kind).toBe('frames');
    await expect(s.cancelExport(exportId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('records a destination outside the data folder while exporting into it (the next start sweeps a killed one)', async () => {
    const mine = mkdtempSync(join(tmpdir(), 'export-elsewhere-'));
    try {
      const s = service([]);
      const { source } = await s.generationJob(genA, { format: 'gif' });
      const during: string[][] = [];
      const places = dataLayout(dataDir).tempPlaces;
      await s.run({ source, options: { format: 'gif' }, out: join(mine, 'clip.gif'), onProgress: () => void during.push(readdirSync(places).map((n) => readFileSync(join(places, n), 'utf8'))) });
      expect(during.length).toBeGreaterThan(0);
      expect(during[0]).toEqual([mine]);
      expect(readdirSync(places)).toEqual([]);
      expect(readdirSync(mine)).toEqual(['clip.gif']);
    } finally {
      rmSync(mine, { recursive: true, force: true });
    }
  });

  it('refuses records that cannot be exported', async () => {
    const s = service([]);
    await expect(s.generationJob(queued, { format: 'mp4' })).rejects.toMatchObject({ code: 'EXPORT_INVALID', message: expect.stringMatching(/is queued/) });
    await expect(s.generationJob(99999, { format: 'mp4' })).rejects.toBeInstanceOf(StudioError);
    await expect(s.timelineJob(99999, { format: 'mp4' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('CLI: export a history id, a timeline and a frames folder; import-params reads them back', async () => {
    const io = captureIO();
    const webm = join(dataDir, 'exports', 'cli.webm');
    expect(await exportCommand.run([String(genB), '--format', 'webm', '--out', webm, '--data-dir', dataDir, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out[0])).toMatchObject({ path: webm, format: 'webm', frames: 8, width: 64, height: 48, fps: 8 });

    const gif = join(dataDir, 'exports', 'cli-timeline.gif');
    expect(await exportCommand.run([`timeline:${timelineId}`, '--out', gif, '--data-dir', dataDir, '--pingpong', '--scale', '32x0', '--loop', '2'], io)).toBe(0);
    expect(io.out[1]).toMatch(/^Exported 18 frames, 32×24 at 8 fps/);

    const framesDir = join(history.outputDirFor(genA), 'frames');
    const png = join(dataDir, 'exports', 'cli-frames');
    expect(await exportCommand.run([framesDir, '--format', 'png', '--out', png, '--fps', '16', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out[2])).toMatchObject({ frames: 20, fps: 16 });

    const imp = captureIO();
    expect(await importParamsCommand.run([webm, '--json'], imp)).toBe(0);
    expect(JSON.parse(imp.out[0]).params).toEqual(paramsB);
    expect(await importParamsCommand.run([gif], imp)).toBe(0);
    expect(imp.out[1].split('\n')[0]).toBe(TEST_PARAMS.prompt);
    expect(await importParamsCommand.run([png], imp)).toBe(0);

    await expect(exportCommand.run(['nonsense', '--format', 'mp4', '--out', webm], io)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(exportCommand.run([framesDir, '--format', 'avi', '--out', webm], io)).rejects.toThrow(/--format must be one of/);
    await expect(exportCommand.run([framesDir, '--format', 'mp4', '--out', webm, '--quality', 'great'], io)).rejects.toThrow(/--quality/);
    await expect(importParamsCommand.run([join(framesDir, 'nope.gif')], imp)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
