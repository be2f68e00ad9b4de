import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControlFrames } from '../../../src/main/engine/control/control-input';
import { decodeFrames } from '../../../src/main/media/decode-frames';
import { DEFAULT_CONTROL_UNIT } from '../../../src/shared/domain/controlnet';
import { isStudioError } from '../../../src/shared/errors';

/**
 * A control VIDEO whose length differs from the clip's (issue 16, bad input): longer — the first F frames are used,
 * in order, and a note says so; shorter — refused with the unit's number, the file and both counts. Real videos,
 * made by ffmpeg losslessly (FFV1), so the frames the unit gets can be compared with the video's own.
 */
let dir: string;
const video = (name: string, frames: number): string => {
  const path = join(dir, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=8', '-frames:v', String(frames), '-c:v', 'ffv1', '-pix_fmt', 'bgr0', path]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()}`);
  return path;
};
const unit = (control: string) => ({ ...DEFAULT_CONTROL_UNIT, model: 'unused.safetensors', control });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'control-video-length-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a control video longer or shorter than the clip', () => {
  it('longer: the clip frames get the video’s first frames, in order, and a note says the rest is ignored', () => {
    const long = video('long.mkv', 7);
    const all = decodeFrames(long, 7).frames;
    expect(all).toHaveLength(7);
    expect(new Set(all.map((f) => Buffer.from(f).toString('base64'))).size).toBe(7); // every frame differs
    const got = loadControlFrames(unit(long), 0, 4, 64, 48);
    expect(got.rgb).toHaveLength(4);
    got.rgb.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(all[i]))).toBe(true));
    expect(got.notes).toEqual(['ControlNet unit 1: The control video has more than 4 frames; its first 4 are used.']);
    // the tensor is those frames / 255, channel-first
    expect(got.tensor[0]).toBeCloseTo(all[0][0] / 255, 6);
    expect(got.tensor[3 * 64 * 48 * 3]).toBeCloseTo(all[3][0] / 255, 6);
  });

  it('as long as the clip: one frame each, no note', () => {
    const same = video('same.mkv', 4);
    const got = loadControlFrames(unit(same), 0, 4, 64, 48);
    expect(got.notes).toEqual([]);
    expect(got.rgb).toHaveLength(4);
  });

  it('shorter: refused with the unit, the file and both counts (frames are never repeated or stretched)', () => {
    const short = video('short.mkv', 3);
    let err: unknown;
    try {
      loadControlFrames(unit(short), 1, 4, 64, 48);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err)).toBe(true);
    if (!isStudioError(err)) return;
    expect(err.code).toBe('INVALID_PARAMS');
    expect(err.message).toMatch(/^ControlNet unit 2 \(short\.mkv\): The control video has 3 frames but the clip has 4: give at least 4 frames/);
  });
});
