/**
 * A timeline as a flat list of frames to show, each for its own time (a clip plays at its fps × speed), and the
 * maps between a frame of the sequence and a frame of a clip. Pure, so the player, scrubber and playhead agree.
 * A crossfade overlaps a clip's start with the previous clip's end: there the previous clip's frames carry the
 * incoming clip's frame as an overlay with a rising opacity, and the incoming clip's first frames are not
 * repeated after it.
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
  /** During a crossfade: the incoming clip's frame and its opacity (0…1). */
  overlay?: { path: string | null; alpha: number };
}

export function clipFrameCount(clip: TimelineClip): number {
  return clip.source.outputs?.frameCount ?? clip.outFrame;
}

const frameMsOf = (clip: TimelineClip) => 1000 / (Math.max(1, clip.source.fps) * clip.speed);
const pathOf = (clip: TimelineClip, f: number) => (clip.source.outputs ? framePath(clip.source.outputs, f) : null);

/** The overlap (ms) of clip k with clip k−1, as shown; at most the shorter of the two (export refuses longer). */
export function overlapMs(timeline: Timeline, k: number): number {
  if (k === 0) return 0;
  const c = timeline.clips[k];
  const p = timeline.clips[k - 1];
  const dur = (x: TimelineClip) => (x.outFrame - x.inFrame) * frameMsOf(x);
  return Math.max(0, Math.min((c.crossfade ?? 0) * 1000, dur(c), dur(p)));
}

/** True when a clip's crossfade is longer than a clip it joins: export refuses it, the clip bar says so. */
export function crossfadeTooLong(timeline: Timeline, k: number): boolean {
  return k > 0 && (timeline.clips[k].crossfade ?? 0) * 1000 > overlapMs(timeline, k) + 1e-6;
}

export function buildSequence(timeline: Timeline): SequenceFrame[] {
  const out: SequenceFrame[] = [];
  let t = 0;
  timeline.clips.forEach((clip, clipIndex) => {
    const durationMs = frameMsOf(clip);
    const fade = overlapMs(timeline, clipIndex);
    if (fade > 0) {
      // Lay this clip's opening over the previous frames that fall in the overlap.
      const fadeStart = t - fade;
      for (const f of out) {
        if (f.clipIndex !== clipIndex - 1 || f.startMs + f.durationMs <= fadeStart + 1e-6) continue;
        const local = Math.max(0, f.startMs - fadeStart);
        const src = Math.min(clip.outFrame - 1, clip.inFrame + Math.floor(local / durationMs));
        f.overlay = { path: pathOf(clip, src), alpha: Math.min(1, (local + f.durationMs / 2) / fade) };
      }
    }
    for (let f = clip.inFrame; f < clip.outFrame; f++) {
      const local = (f - clip.inFrame) * durationMs;
      if (local + durationMs <= fade + 1e-6) continue; // shown as the overlay above
      out.push({ clipIndex, frame: f, path: pathOf(clip, f), durationMs, startMs: t + Math.max(0, local - fade) });
    }
    const last = out[out.length - 1];
    t = last ? last.startMs + last.durationMs : t;
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
