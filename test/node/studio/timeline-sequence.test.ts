import { describe, expect, it } from 'vitest';
import type { Timeline, TimelineClip } from '../../../src/shared/domain/timeline';
import { buildSequence, formatTime, totalMs } from '../../../src/renderer/places/timeline/sequence';
import { framePath, framePaths } from '../../../src/renderer/state/media';

function clip(id: number, frames: number, fps: number, inFrame: number, outFrame: number, speed = 1, crossfade = 0): TimelineClip {
  return {
    id,
    timelineId: 1,
    position: id - 1,
    generationId: id,
    inFrame,
    outFrame,
    speed,
    crossfade,
    source: { outputs: { framesDir: `/data/outputs/${id}/frames`, frameCount: frames, videos: [], thumbnail: null }, fps, width: 64, height: 64, prompt: `clip ${id}` },
  };
}

const timeline = (clips: TimelineClip[]): Timeline => ({ id: 1, name: 't', clips, createdAt: '', updatedAt: '' });

describe('timeline sequence', () => {
  it('plays each clip’s trimmed frames in order, each for its own clip’s frame time', () => {
    const seq = buildSequence(timeline([clip(1, 8, 8, 0, 6), clip(2, 8, 4, 1, 8, 2)]));
    expect(seq).toHaveLength(6 + 7);
    expect(seq.slice(0, 6).map((f) => f.frame)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seq.slice(6).map((f) => f.frame)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seq[0].durationMs).toBe(125);
    // 4 fps at 2× speed: 125 ms a frame too.
    expect(seq[6].durationMs).toBe(125);
    expect(seq[6].startMs).toBe(6 * 125);
    expect(totalMs(seq)).toBe(13 * 125);
    expect(seq[7].path).toBe('/data/outputs/2/frames/frame_0002.png');
  });

  it('an empty timeline has no frames and no duration', () => {
    expect(buildSequence(timeline([]))).toEqual([]);
    expect(totalMs([])).toBe(0);
  });

  it('frame paths follow the generator’s naming and the folder’s own separator', () => {
    const win = { framesDir: 'C:\\data\\outputs\\3\\frames\\', frameCount: 2, videos: [], thumbnail: null };
    expect(framePath(win, 1)).toBe('C:\\data\\outputs\\3\\frames\\frame_0001.png');
    expect(framePaths({ framesDir: null, frameCount: 4, videos: [], thumbnail: null })).toEqual([]);
    expect(framePaths({ framesDir: '/o/f', frameCount: 2, videos: [], thumbnail: null })).toEqual(['/o/f/frame_0000.png', '/o/f/frame_0001.png']);
  });

  it('formats time as m:ss.cc', () => {
    expect(formatTime(0)).toBe('0:00.00');
    expect(formatTime(1625)).toBe('0:01.63');
    expect(formatTime(61_500)).toBe('1:01.50');
  });

  it('overlaps a crossfade: the incoming clip shows over the outgoing one with rising opacity, the whole is shorter', () => {
    // Two 8-frame clips at 8 fps with a 0.25 s crossfade: 2 frames overlap, 14 frames shown.
    const seq = buildSequence(timeline([clip(1, 8, 8, 0, 8), clip(2, 8, 8, 0, 8, 1, 0.25)]));
    expect(seq).toHaveLength(14);
    expect(totalMs(seq)).toBe(14 * 125);
    const fading = seq.filter((f) => f.overlay);
    expect(fading.map((f) => [f.clipIndex, f.frame])).toEqual([
      [0, 6],
      [0, 7],
    ]);
    expect(fading.map((f) => f.overlay?.path)).toEqual([framePath({ framesDir: '/data/outputs/2/frames', frameCount: 8, videos: [], thumbnail: null }, 0), framePath({ framesDir: '/data/outputs/2/frames', frameCount: 8, videos: [], thumbnail: null }, 1)]);
    expect(fading[0].overlay?.alpha).toBeLessThan(fading[1].overlay?.alpha ?? 0);
    // The incoming clip continues from its third frame right after the overlap.
    expect(seq[8]).toMatchObject({ clipIndex: 1, frame: 2, startMs: 8 * 125 });
  });
});
