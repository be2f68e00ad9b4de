import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli-in-process';
import { decodePng } from '../../../src/main/formats/png';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { HistoryService } from '../../../src/main/services/history-service';
import { TimelineService } from '../../../src/main/services/timeline-service';
import { openDatabase } from '../../../src/main/store/database';
import { writeStarterFiles } from './starter-files';

/** Runs the CLI in-process, capturing stdout and stderr (stderr is not a TTY here: plain progress lines). */
interface GenerateJson {
  out: string;
  historyId: number | null;
  compiled: string[];
  frames: number;
  model: { isStarter: boolean; label: string };
  timings: Record<string, number>;
  params: { seed: number; steps: number };
}

const SMALL = ['--prompt', 'a paper boat on a pond', '--negative', 'text', '--width', '64', '--height', '64', '--frames', '4', '--steps', '2', '--seed', '5'];

let root: string;
let data: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pipeline-cli-'));
  data = join(root, 'data');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function frames(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.png'))
    .sort()
    .map((n) => readFileSync(join(dir, n)));
}

describe('npm run cli -- generate', () => {
  it('generates with the starter model into a folder, records the history, and re-runs byte-identically from the cache', async () => {
    const first = await cli('generate', ...SMALL, '--out', join(root, 'o1'), '--data-dir', data, '--json');
    expect(first.code, first.err).toBe(0);
    const j1 = JSON.parse(first.out) as GenerateJson;
    expect(j1.model.isStarter).toBe(true);
    expect(first.err).toMatch(/starter test model/i);
    expect(j1.compiled).toHaveLength(3);
    expect(first.err).toMatch(/Compiling the UNet/);
    expect(j1.params).toMatchObject({ seed: 5, steps: 2 });
    for (const k of ['compile', 'encode', 'denoise', 'decode', 'write', 'total']) expect(j1.timings[k]).toBeGreaterThanOrEqual(0);
    expect(frames(join(root, 'o1'))).toHaveLength(4);
    expect(existsSync(join(data, 'cache'))).toBe(true);

    const second = await cli('generate', ...SMALL, '--out', join(root, 'o2'), '--data-dir', data, '--json');
    expect(second.code, second.err).toBe(0);
    const j2 = JSON.parse(second.out) as GenerateJson;
    expect(j2.compiled).toEqual([]);
    expect(second.err).not.toMatch(/Compiling/);
    const a = frames(join(root, 'o1'));
    const b = frames(join(root, 'o2'));
    a.forEach((buf, i) => expect(buf.equals(b[i]), `frame ${i}`).toBe(true));
    expect(readFileSync(join(root, 'o1', 'params.json')).equals(readFileSync(join(root, 'o2', 'params.json')))).toBe(true);

    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(j1.historyId!);
      expect(rec.status).toBe('done');
      expect(rec.params.seed).toBe(5);
      expect(rec.outputs).toMatchObject({ framesDir: join(root, 'o1'), frameCount: 4 });
      expect(rec.noise.name).toBe('torch-cpu-randn');
      expect(j2.historyId).not.toBe(j1.historyId);
    } finally {
      db.close();
    }
  });

  it('history rerun / reroll run the work: a new done record, rerun byte-identical to the original', async () => {
    const first = await cli('generate', ...SMALL, '--out', join(root, 'r0'), '--data-dir', data, '--json');
    expect(first.code, first.err).toBe(0);
    const original = (JSON.parse(first.out) as GenerateJson).historyId!;

    const rerun = await cli('history', 'rerun', String(original), '--data-dir', data, '--json');
    expect(rerun.code, rerun.err).toBe(0);
    const again = JSON.parse(rerun.out) as GenerationRecord;
    expect(again).toMatchObject({ status: 'done', origin: 'rerun', parentId: original, params: { seed: 5 } });
    expect(again.id).not.toBe(original);
    const a = frames(join(root, 'r0'));
    const b = frames(again.outputs!.framesDir!);
    expect(b).toHaveLength(4);
    a.forEach((buf, i) => expect(buf.equals(b[i]), `frame ${i}`).toBe(true));

    const reroll = await cli('history', 'reroll', String(original), '--seed', '6', '--data-dir', data);
    expect(reroll.code, reroll.err).toBe(0);
    const id = Number(/#(\d+)/.exec(reroll.out)?.[1]);
    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(id);
      expect(rec).toMatchObject({ status: 'done', origin: 'reroll', parentId: original, params: { seed: 6 } });
      const c = frames(rec.outputs!.framesDir!);
      expect(c).toHaveLength(4);
      expect(c[0].equals(a[0])).toBe(false);
    } finally {
      db.close();
    }
  });

  it('compiles a creator’s checkpoint + motion module on the first run and reuses the cache on the next', async () => {
    const files = writeStarterFiles(root);
    const args = ['generate', ...SMALL, '--model', files.model, '--motion', files.motion, '--data-dir', data, '--json'];
    const first = await cli(...args, '--out', join(root, 'f1'));
    expect(first.code, first.err).toBe(0);
    const j1 = JSON.parse(first.out) as GenerateJson;
    expect(j1.model.isStarter).toBe(false);
    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(j1.historyId!);
      const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
      expect(rec.hashes).toMatchObject({ model: sha(files.model), motion: sha(files.motion), lcmLora: null });
    } finally {
      db.close();
    }
    expect(j1.compiled).toHaveLength(3);
    expect(first.err).toMatch(/Compiling the UNet \+ motion module/);

    const second = await cli(...args, '--out', join(root, 'f2'));
    expect(second.code, second.err).toBe(0);
    expect((JSON.parse(second.out) as GenerateJson).compiled).toEqual([]);
    expect(second.err).not.toMatch(/Compiling/);
    // Same tensors and configs as the built-in starter model, read back from files: the same pixels (the PNG
    // text chunks differ, since they carry the model path).
    const viaFiles = frames(join(root, 'f2')).map((b) => Buffer.from(decodePng(b).rgb));
    const builtIn = frames(join(root, 'o1')).map((b) => Buffer.from(decodePng(b).rgb));
    expect(viaFiles.length).toBe(4);
    viaFiles.forEach((px, i) => expect(px.equals(builtIn[i]), `frame ${i}`).toBe(true));
  });

  it('writes a video file through the export module when --out names one', async () => {
    const out = join(root, 'clip.mp4');
    const r = await cli('generate', ...SMALL, '--out', out, '--data-dir', data, '--json');
    expect(r.code, r.err).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(100);
    expect(readFileSync(out).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    // The clip keeps its frames in the data folder, so it can go on a timeline and be exported from there.
    const id = (JSON.parse(r.out) as GenerateJson).historyId!;
    const db = openDatabase(data);
    let timelineId: number;
    try {
      const rec = await new HistoryService(db).getGeneration(id);
      expect(rec.outputs).toMatchObject({ framesDir: join(data, 'outputs', String(id)), frameCount: 4, videos: [out] });
      expect(frames(rec.outputs!.framesDir!)).toHaveLength(4);
      const timelines = new TimelineService(db);
      timelineId = (await timelines.createTimeline('fox')).id;
      await timelines.addClip(timelineId, id);
    } finally {
      db.close();
    }
    const gif = join(root, 'timeline.gif');
    const exported = await cli('export', `timeline:${timelineId}`, '--format', 'gif', '--out', gif, '--data-dir', data);
    expect(exported.code, exported.err).toBe(0);
    expect(readFileSync(gif).subarray(0, 6).toString('latin1')).toBe('GIF89a');
  });

  it('explains what is missing', async () => {
    const r = await cli('generate', '--prompt', 'x', '--data-dir', data);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--out/);
    const bad = await cli('generate', ...SMALL, '--width', '60', '--out', join(root, 'bad'), '--data-dir', data, '--no-history');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/multiples of 8/);
    expect(existsSync(join(root, 'bad'))).toBe(false);
  });
});
