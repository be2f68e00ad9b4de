/**
 * Time: trims, speeds, output rate, ping-pong and loops. The plan is checked as data, then a whole timeline is
 * exported as a (lossless) PNG sequence and every output frame compared byte for byte with the source frame the
 * plan says belongs there, and as MP4 for its frame count and duration.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportClip } from '../../../src/main/export/exporter';
import { locateFfmpeg, type FfmpegTools } from '../../../src/main/export/ffmpeg-locate';
import { listFrames, pingpong, planFrames, resampleIndices } from '../../../src/main/export/frame-plan';
import { decodePng, encodePng } from '../../../src/main/formats/png';
import type { ExportSource } from '../../../src/shared/domain/export';
import { findTool, gradientFrame, probe, TEST_PARAMS, writeFrames } from './helpers';

const haveTools = Boolean(findTool('ffmpeg') && findTool('ffprobe'));
const root = mkdtempSync(join(tmpdir(), 'export-timeline-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const clipA = join(root, 'a');
const clipB = join(root, 'b');
let framesA: Uint8Array[];
let framesB: Uint8Array[];
beforeAll(() => {
  framesA = writeFrames(clipA, 8, 32, 24, TEST_PARAMS, 0);
  framesB = writeFrames(clipB, 6, 32, 24, undefined, 50);
});

describe('frame plan', () => {
  it('resamples a clip by nearest frame, preserving its duration', () => {
    expect(resampleIndices(0, 8, 8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(resampleIndices(2, 4, 16, 8)).toEqual([2, 4]); // speed 2: every other frame
    expect(resampleIndices(0, 3, 4, 8)).toEqual([0, 0, 1, 1, 2, 2]); // speed 0.5: each twice
    expect(resampleIndices(0, 8, 8, 24)).toHaveLength(24); // 8 fps → 24 fps, still one second
    expect(resampleIndices(0, 1, 8, 8)).toEqual([0]);
  });

  it('ping-pongs without doubling the end frames', () => {
    expect(pingpong([0, 1, 2, 3])).toEqual([0, 1, 2, 3, 2, 1]);
    expect(pingpong([0, 1])).toEqual([0, 1]);
    expect(pingpong([7])).toEqual([7]);
  });

  it('lists frames in numeric name order and prefers frame_NNNN.png over other PNGs', () => {
    const d = join(root, 'names');
    mkdirSync(d);
    const px = encodePng(gradientFrame(4, 4, 0), 4, 4);
    for (const n of ['frame_10.png', 'frame_9.png', 'frame_0.png', 'thumbnail.png', 'notes.txt']) writeFileSync(join(d, n), px, { flag: 'w' });
    expect(listFrames(d).map((p) => p.slice(d.length + 1))).toEqual(['frame_0.png', 'frame_9.png', 'frame_10.png']);
  });

  it('applies trims, speeds, ping-pong and loops in that order', () => {
    const source: ExportSource = {
      kind: 'sequence',
      clips: [
        { dir: clipA, fps: 8, inFrame: 2, outFrame: 6, speed: 1 },
        { dir: clipB, fps: 8, inFrame: 0, outFrame: 6, speed: 2 },
      ],
    };
    // Cut-only plans name paths (crossfades would add blends, crossfade.test.ts).
    const names = (files: readonly unknown[]) => files.map(String).map((f) => `${f.includes('/a/') ? 'a' : 'b'}${Number(/(\d+)\.png$/.exec(f)![1])}`);
    const plan = planFrames(source, { format: 'mp4' });
    expect(plan.fps).toBe(8);
    expect(names(plan.files)).toEqual(['a2', 'a3', 'a4', 'a5', 'b0', 'b2', 'b4']);
    expect(plan.params).toEqual(undefined); // sequence clips carry no params here and options gave none
    const pp = planFrames(source, { format: 'mp4', pingpong: true, loop: 2 });
    const once = ['a2', 'a3', 'a4', 'a5', 'b0', 'b2', 'b4', 'b2', 'b0', 'a5', 'a4', 'a3'];
    expect(names(pp.files)).toEqual([...once, ...once]);
    // GIF: the loop count goes into the file's loop extension, not into repeated frames.
    const gif = planFrames(source, { format: 'gif', loop: 3 });
    expect([gif.files.length, gif.plays]).toEqual([7, 3]);
  });

  it('rejects empty timelines, empty folders, bad trims, speeds and rates with clear errors', () => {
    const empty = join(root, 'empty');
    writeFrames(empty, 0, 8, 8);
    expect(() => planFrames({ kind: 'sequence', clips: [] }, { format: 'mp4' })).toThrow(/timeline is empty/);
    expect(() => planFrames({ kind: 'frames', dir: empty, fps: 8 }, { format: 'mp4' })).toThrow(/holds no PNG frames/);
    expect(() => planFrames({ kind: 'frames', dir: join(root, 'missing'), fps: 8 }, { format: 'mp4' })).toThrow(/does not exist/);
    const clip = { dir: clipA, fps: 8, inFrame: 5, outFrame: 5, speed: 1 };
    expect(() => planFrames({ kind: 'sequence', clips: [clip] }, { format: 'mp4' })).toThrow(/trimmed to frames 5–5, but it has 8 frames/);
    expect(() => planFrames({ kind: 'sequence', clips: [{ ...clip, inFrame: 0, outFrame: 9 }] }, { format: 'mp4' })).toThrow(/has 8 frames/);
    expect(() => planFrames({ kind: 'sequence', clips: [{ ...clip, inFrame: 0, speed: 0 }] }, { format: 'mp4' })).toThrow(/invalid speed/);
    expect(() => planFrames({ kind: 'frames', dir: clipA, fps: 8 }, { format: 'mp4', fps: 0 })).toThrow(/out of range/);
    expect(() => planFrames({ kind: 'frames', dir: clipA, fps: 8 }, { format: 'mp4', loop: 0 })).toThrow(/Loop count/);
  });
});

describe.skipIf(!haveTools)('timeline export (real ffmpeg)', () => {
  let tools: FfmpegTools;
  beforeAll(() => {
    tools = locateFfmpeg();
  });

  const timeline: () => ExportSource = () => ({
    kind: 'sequence',
    clips: [
      { dir: clipA, fps: 8, inFrame: 1, outFrame: 7, speed: 1, params: TEST_PARAMS },
      { dir: clipB, fps: 8, inFrame: 1, outFrame: 5, speed: 0.5 },
      { dir: clipA, fps: 8, inFrame: 0, outFrame: 8, speed: 2 },
    ],
  });
  // a1…a6, then b1 b1 b2 b2 b3 b3 b4 b4 (half speed), then a0 a2 a4 a6 (double speed).
  const expected = () => [
    ...[1, 2, 3, 4, 5, 6].map((i) => framesA[i]),
    ...[1, 1, 2, 2, 3, 3, 4, 4].map((i) => framesB[i]),
    ...[0, 2, 4, 6].map((i) => framesA[i]),
  ];

  it('writes clips in order with their trims and speeds (PNG sequence, exact)', async () => {
    const out = join(root, 'timeline-frames');
    const r = await exportClip(timeline(), { format: 'png' }, { out, tools });
    const want = expected();
    expect(r.frames).toBe(want.length);
    const names = readdirSync(out).sort();
    expect(names).toHaveLength(want.length);
    names.forEach((n, i) => {
      const d = decodePng(readFileSync(join(out, n)));
      expect(Buffer.from(d.rgb).equals(Buffer.from(want[i])), `output frame ${i}`).toBe(true);
      expect(JSON.parse(d.text.animatelcm)).toEqual(TEST_PARAMS);
    });
  });

  it('as MP4: frame count, rate and duration of the whole timeline, ping-pong and loop', async () => {
    const out = join(root, 'timeline.mp4');
    const r = await exportClip(timeline(), { format: 'mp4', pingpong: true, loop: 2, fps: 16 }, { out, tools });
    // At 16 fps every planned frame is doubled in time: 18 frames at 8 fps → 36; ping-pong 2·36−2 = 70; × 2 plays.
    expect(r.frames).toBe(140);
    const info = probe(tools.ffprobe!, out);
    expect([info.frames, info.fps]).toEqual([140, 16]);
    expect(info.durationS).toBeCloseTo(140 / 16, 1);
  });

  it('fits clips of different sizes into the output size (letterboxed)', async () => {
    const wide = join(root, 'wide');
    writeFrames(wide, 3, 48, 24);
    const out = join(root, 'mixed.webm');
    const r = await exportClip(
      { kind: 'sequence', clips: [{ dir: clipA, fps: 8, inFrame: 0, outFrame: 3, speed: 1 }, { dir: wide, fps: 8, inFrame: 0, outFrame: 3, speed: 1 }] },
      { format: 'webm' },
      { out, tools },
    );
    expect([r.width, r.height, r.frames]).toEqual([32, 24, 6]);
    const info = probe(tools.ffprobe!, out);
    expect([info.width, info.height, info.frames]).toEqual([32, 24, 6]);
  });

  // Issue 13 item 9: GIF's palette filter was flushed away when ffmpeg rebuilt its graph at a size change, so
  // the clips before the change were silently missing while the result still reported the planned count.
  it('a timeline of 2:1-sized clips: every format gets the same frames, in either order, and reports the file\'s count', async () => {
    const big = join(root, 'big');
    const small = join(root, 'small');
    writeFrames(big, 11, 64, 64, undefined, 3);
    writeFrames(small, 7, 32, 32, undefined, 9);
    for (const order of [[big, small], [small, big]]) {
      const source: ExportSource = { kind: 'sequence', clips: order.map((dir) => ({ dir, fps: 8, inFrame: 0, outFrame: Number.POSITIVE_INFINITY, speed: 1 })) };
      const side = order[0] === big ? 64 : 32;
      for (const format of ['mp4', 'webm', 'gif', 'png'] as const) {
        const out = join(root, `mixed-${side}.${format}`);
        const r = await exportClip(source, { format }, { out, tools });
        const written = format === 'png' ? readdirSync(out).length : probe(tools.ffprobe!, out).frames;
        expect([format, side, r.frames, written], `${format} starting with the ${side}² clip`).toEqual([format, side, 18, 18]);
        if (format !== 'png') expect(probe(tools.ffprobe!, out).durationS).toBeCloseTo(18 / 8, 1);
      }
    }
  });
});
