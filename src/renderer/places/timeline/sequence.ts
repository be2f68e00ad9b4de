/**
 * A timeline as a flat list of frames to show, each for its own time (a clip plays at its fps × speed), and the
 * maps between a frame of the sequence and a frame of a clip. Pure, so the player, scrubber and playhead agree.
 */
import type { Timeline, TimelineClip } from '../../../shared/domain/timeline';
import { framePath } from '../../state/media';

export interface SequenceFrame {
  clipIndex: number;
  /** Source frame within the clip's generation. */
  frame: number;
  path: string | null;
  durationMs: number;
  /** Start time in the sequence. */
  startMs: number;
}

export function clipFrameCount(clip: TimelineClip): number {
  return clip.source.outputs?.frameCount ?? clip.outFrame;
}

export function buildSequence(timeline: Timeline): SequenceFrame[] {
  const out: SequenceFrame[] = [];
  let t = 0;
  timeline.clips.forEach((clip, clipIndex) => {
    const durationMs = 1000 / (Math.max(1, clip.source.fps) * clip.speed);
    for (let f = clip.inFrame; f < clip.outFrame; f++) {
      out.push({ clipIndex, frame: f, path: clip.source.outputs ? framePath(clip.source.outputs, f) : null, durationMs, startMs: t });
      t += durationMs;
    }
  });
  return out;
}

export function totalMs(seq: SequenceFrame[]): number {
  const last = seq[seq.length - 1];
  return last ? last.startMs + last.durationMs : 0;
}

export function formatTime(ms: number): string {
  const s = ms / 1000;
  return `${Math.floor(s / 60)}:${(s % 60).toFixed(2).padStart(5, '0')}`;
}
