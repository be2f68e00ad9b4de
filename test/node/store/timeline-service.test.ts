import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { writeFileAtomic } from '../../../src/main/store/atomic-files';
import { HistoryService } from '../../../src/main/services/history-service';
import { TimelineService } from '../../../src/main/services/timeline-service';
import type { Timeline } from '../../../src/shared/domain/timeline';
import { META, params, tempDataDir } from './helpers';
import { rejection } from '../refusal';


const order = (t: Timeline) => t.clips.map((c) => `${c.generationId}:${c.inFrame}-${c.outFrame}`);

describe('TimelineService', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  let history: HistoryService;
  let timelines: TimelineService;
  const gens: number[] = [];

  async function finished(frames: number, prompt: string): Promise<number> {
    const g = await history.createGeneration(params({ frames, prompt, fps: 10 }), META);
    await history.markRunning(g.id);
    const dir = history.outputDirFor(g.id);
    await writeFileAtomic(join(dir, 'frame_0000.png'), 'png');
    const video = join(dir, 'clip.mp4');
    await writeFileAtomic(video, 'v');
    await history.markDone(g.id, { framesDir: dir, frameCount: frames, videos: [video], thumbnail: null });
    return g.id;
  }

  /** A clip saved only as a video (what `generate --out x.mp4` made before it kept frames). */
  async function videoOnly(): Promise<number> {
    const g = await history.createGeneration(params({ frames: 4 }), META);
    await history.markRunning(g.id);
    const video = join(history.outputDirFor(g.id), 'clip.mp4');
    await writeFileAtomic(video, 'v');
    await history.markDone(g.id, { framesDir: null, frameCount: 4, videos: [video], thumbnail: null });
    return g.id;
  }

  beforeEach(async () => {
    ({ dir, cleanup } = tempDataDir('tl-'));
    db = openDatabase(join(dir, 'data'));
    history = new HistoryService(db);
    timelines = new TimelineService(db);
    gens.length = 0;
    gens.push(await finished(16, 'first'), await finished(8, 'second'), await finished(24, 'third'));
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('refuses a finished generation that kept no frames, saying why', async () => {
    const t = await timelines.createTimeline('Blank');
    const g = await history.createGeneration(params({ frames: 8, prompt: 'blank' }), META);
    await history.markRunning(g.id);
    await history.markDone(g.id, { framesDir: null, frameCount: 0, videos: [], thumbnail: null });
    const e = await rejection(timelines.addClip(t.id, g.id));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/without frames on disk/);
    expect((await timelines.getTimeline(t.id)).clips).toEqual([]);
  });

  it('keeps a crossfade per clip (0 = a cut, the default), refusing one outside 0…4 s', async () => {
    const t = await timelines.createTimeline('Fades');
    let tl = await timelines.addClip(t.id, gens[0]);
    tl = await timelines.addClip(t.id, gens[1]);
    expect(tl.clips.map((c) => c.crossfade)).toEqual([0, 0]);
    tl = await timelines.setClipCrossfade(tl.clips[1].id, 0.5);
    expect((await timelines.getTimeline(t.id)).clips.map((c) => c.crossfade)).toEqual([0, 0.5]);
    expect((await rejection(timelines.setClipCrossfade(tl.clips[1].id, 5))).message).toMatch(/0 \(a cut\) to 4 seconds/);
  });

  it('adds clips whole by default, carrying what export and drawing need', async () => {
    const t = await timelines.createTimeline('  My project ');
    expect(t).toMatchObject({ name: 'My project', clips: [] });
    let tl = await timelines.addClip(t.id, gens[0]);
    tl = await timelines.addClip(t.id, gens[1]);
    expect(order(tl)).toEqual([`${gens[0]}:0-16`, `${gens[1]}:0-8`]);
    expect(tl.clips.map((c) => c.position)).toEqual([0, 1]);
    expect(tl.clips[1]).toMatchObject({ speed: 1, source: { fps: 10, width: 512, height: 512, prompt: 'second', outputs: { frameCount: 8 } } });
    tl = await timelines.addClip(t.id, gens[2], { position: 0, inFrame: 4, outFrame: 20, speed: 2 });
    expect(order(tl)).toEqual([`${gens[2]}:4-20`, `${gens[0]}:0-16`, `${gens[1]}:0-8`]);
    const [summary] = await timelines.listTimelines();
    expect(summary).toMatchObject({ id: t.id, name: 'My project', clipCount: 3, totalFrames: 16 / 2 + 16 + 8 });
  });

  it('moves, duplicates, trims and removes clips, keeping positions dense', async () => {
    const t = await timelines.createTimeline('Edit');
    for (const g of gens) await timelines.addClip(t.id, g);
    let tl = await timelines.getTimeline(t.id);
    const [a, b, c] = tl.clips.map((x) => x.id);

    tl = await timelines.moveClip(a, 2);
    expect(tl.clips.map((x) => x.id)).toEqual([b, c, a]);
    tl = await timelines.moveClip(a, -5); // clamped to the start
    expect(tl.clips.map((x) => x.id)).toEqual([a, b, c]);
    tl = await timelines.moveClip(c, 1);
    expect(tl.clips.map((x) => x.id)).toEqual([a, c, b]);

    tl = await timelines.duplicateClip(c);
    const dup = tl.clips[2];
    expect(tl.clips.map((x) => x.id)).toEqual([a, c, dup.id, b]);
    expect(dup).toMatchObject({ generationId: gens[2], inFrame: 0, outFrame: 24 });

    tl = await timelines.trimClip(dup.id, 3, 11);
    expect(tl.clips[2]).toMatchObject({ inFrame: 3, outFrame: 11 });
    expect(tl.clips[1]).toMatchObject({ inFrame: 0, outFrame: 24 }); // the original is untouched
    tl = await timelines.setClipSpeed(dup.id, 0.5);
    expect(tl.clips[2].speed).toBe(0.5);

    tl = await timelines.removeClip(c);
    expect(tl.clips.map((x) => x.id)).toEqual([a, dup.id, b]);
    expect(tl.clips.map((x) => x.position)).toEqual([0, 1, 2]);
  });

  it('rejects trims outside the clip, bad speeds, unfinished generations and unknown ids', async () => {
    const t = await timelines.createTimeline('Checks');
    const tl = await timelines.addClip(t.id, gens[1]);
    const clip = tl.clips[0].id;
    for (const [i, o] of [[-1, 4], [4, 4], [5, 3], [0, 9], [0.5, 4]]) {
      expect((await rejection(timelines.trimClip(clip, i, o))).code).toBe('BAD_REQUEST');
    }
    expect((await timelines.trimClip(clip, 7, 8)).clips[0]).toMatchObject({ inFrame: 7, outFrame: 8 });
    expect((await rejection(timelines.setClipSpeed(clip, 0))).code).toBe('BAD_REQUEST');
    expect((await rejection(timelines.setClipSpeed(clip, 10))).code).toBe('BAD_REQUEST');
    const queued = await history.createGeneration(params(), META);
    const e = await rejection(timelines.addClip(t.id, queued.id));
    expect(e.message).toContain('queued');
    // Timelines cut and export frames: a clip without them is refused when it is added, not when it is exported.
    const noFrames = await rejection(timelines.addClip(t.id, await videoOnly()));
    expect(noFrames.code).toBe('BAD_REQUEST');
    expect(noFrames.message).toMatch(/kept no frames.*re-run/i);
    expect((await rejection(timelines.addClip(t.id, 9999))).code).toBe('NOT_FOUND');
    expect((await rejection(timelines.addClip(9999, gens[0]))).code).toBe('NOT_FOUND');
    expect((await rejection(timelines.moveClip(9999, 0))).code).toBe('NOT_FOUND');
    expect((await rejection(timelines.createTimeline(' '))).code).toBe('BAD_REQUEST');
    expect((await timelines.getTimeline(t.id)).clips).toHaveLength(1);
  });

  it('keeps several timelines apart; rename and delete touch only their own', async () => {
    const one = await timelines.createTimeline('One');
    const two = await timelines.createTimeline('Two');
    await timelines.addClip(one.id, gens[0]);
    await timelines.addClip(two.id, gens[0]);
    await timelines.addClip(two.id, gens[1]);
    expect((await timelines.renameTimeline(one.id, 'Uno')).name).toBe('Uno');
    await timelines.deleteTimeline(two.id);
    expect((await timelines.listTimelines()).map((t) => [t.name, t.clipCount])).toEqual([['Uno', 1]]);
    expect((await rejection(timelines.getTimeline(two.id))).code).toBe('NOT_FOUND');
    expect((await rejection(timelines.deleteTimeline(two.id))).code).toBe('NOT_FOUND');
    // Deleting the generation removes its clips and closes the gap.
    await timelines.addClip(one.id, gens[1]);
    await timelines.addClip(one.id, gens[0]);
    await history.deleteGeneration(gens[1]);
    const left = await timelines.getTimeline(one.id);
    expect(left.clips.map((c) => [c.generationId, c.position])).toEqual([[gens[0], 0], [gens[0], 1]]);
  });
});
