/**
 * Crossfades between timeline clips: the plan overlaps the clips and names blended frames, and an exported PNG
 * sequence holds exactly those blends (lossless, so pixel for pixel), end to end from the timeline store's value.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlend } from '../../../src/main/export/crossfade';
import { exportClip } from '../../../src/main/export/exporter';
import { locateFfmpeg } from '../../../src/main/export/ffmpeg-locate';
import { planFrames } from '../../../src/main/export/frame-plan';
import { decodePng } from '../../../src/main/formats/png';
import type { ExportSource } from '../../../src/shared/domain/export';
import { findTool, writeFrames } from './helpers';

const root = mkdtempSync(join(tmpdir(), 'export-crossfade-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const clipA = join(root, 'a');
const clipB = join(root, 'b');
let framesA: Uint8Array[];
let framesB: Uint8Array[];
beforeAll(() => {
  framesA = writeFrames(clipA, 8, 32, 24, undefined, 0);
  framesB = writeFrames(clipB, 6, 32, 24, undefined, 50);
});

// 0.25 s at 8 fps: the last 2 frames of A blend with the first 2 of B.
const source = (crossfade: number): ExportSource => ({
  kind: 'sequence',
  clips: [
    { dir: clipA, fps: 8, inFrame: 0, outFrame: 8, speed: 1 },
    { dir: clipB, fps: 8, inFrame: 0, outFrame: 6, speed: 1, crossfade },
  ],
});

const mix = (a: Uint8Array, b: Uint8Array, t: number) => Uint8Array.from(a, (v, i) => Math.round(v * (1 - t) + b[i] * t));

describe('crossfades', () => {
  it('overlap the clips in the plan: the timeline is shorter by the overlap, the overlap frames are blends', () => {
    const cut = planFrames(source(0), { format: 'png' });
    expect(cut.files).toHaveLength(14);
    expect(cut.files.some(isBlend)).toBe(false);
    const plan = planFrames(source(0.25), { format: 'png' });
    expect(plan.files).toHaveLength(12);
    expect(plan.files.slice(6, 8)).toEqual([
      { from: join(clipA, 'frame_0006.png'), to: join(clipB, 'frame_0000.png'), t: 1 / 3 },
      { from: join(clipA, 'frame_0007.png'), to: join(clipB, 'frame_0001.png'), t: 2 / 3 },
    ]);
    expect(plan.files[8]).toBe(join(clipB, 'frame_0002.png'));
  });

  it('refuses a crossfade as long as a clip it joins, saying so', () => {
    expect(() => planFrames(source(1), { format: 'png' })).toThrow(/crossfade into clip 2 is as long as a clip it joins/);
  });

  it.skipIf(!findTool('ffmpeg'))('are honoured by export: the blended frames are in the file, pixel for pixel', async () => {
    const out = join(root, 'frames');
    const r = await exportClip(source(0.25), { format: 'png' }, { out, tools: locateFfmpeg() });
    const want = [...framesA.slice(0, 6), mix(framesA[6], framesB[0], 1 / 3), mix(framesA[7], framesB[1], 2 / 3), ...framesB.slice(2)];
    expect(r.frames).toBe(want.length);
    readdirSync(out)
      .sort()
      .forEach((n, i) => expect(Buffer.from(decodePng(readFileSync(join(out, n))).rgb).equals(Buffer.from(want[i])), `frame ${i}`).toBe(true));
  });
});
