/**
 * Where things stand on the track: clips are as wide as they last (trimmed length ÷ (fps × speed)) at the zoom's
 * pixels per second, so the ruler, the clips and the playhead share one time axis. Pure, so they always agree.
 */
import type { Timeline } from '../../../shared/domain/timeline';
import { overlapMs, type SequenceFrame } from './sequence';

export interface ClipSpan {
  clipIndex: number;
  startMs: number;
  endMs: number;
  /** ms one source frame lasts on screen. */
  frameMs: number;
}

/** Each clip's time on the track; a crossfade starts a clip before the previous one ends (overlapMs). */
export function clipSpans(timeline: Timeline): ClipSpan[] {
  let t = 0;
  return timeline.clips.map((c, clipIndex) => {
    const frameMs = 1000 / (Math.max(1, c.source.fps) * c.speed);
    const startMs = t - overlapMs(timeline, clipIndex);
    const span = { clipIndex, startMs, endMs: startMs + (c.outFrame - c.inFrame) * frameMs, frameMs };
    t = span.endMs;
    return span;
  });
}

export const ZOOM_MIN = 20;
/** 1600 px/s: Fit spans a short (1–2 s) timeline across a wide window's track. */
export const ZOOM_MAX = 1600;
export const ZOOM_DEFAULT = 160;

export const msToPx = (ms: number, pxPerSec: number) => (ms / 1000) * pxPerSec;
export const pxToMs = (px: number, pxPerSec: number) => (px / pxPerSec) * 1000;

/** Snap a time to the nearest clip edge within `px` pixels (the editor's magnet); else unchanged. */
export function snapMs(ms: number, spans: ClipSpan[], pxPerSec: number, px = 8): number {
  let best = ms;
  let bestPx = px + 1;
  for (const s of spans)
    for (const edge of [s.startMs, s.endMs]) {
      const d = Math.abs(msToPx(edge - ms, pxPerSec));
      if (d < bestPx) {
        bestPx = d;
        best = edge;
      }
    }
  return bestPx <= px ? best : ms;
}

/** The sequence frame showing at time `ms` (the last frame at or past the end). */
export function frameAtMs(seq: SequenceFrame[], ms: number): number {
  if (seq.length === 0) return 0;
  let lo = 0;
  let hi = seq.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (seq[mid].startMs <= ms + 1e-6) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A ruler step (seconds between labelled ticks) that keeps labels at least ~70 px apart. */
export function tickStep(pxPerSec: number): number {
  for (const s of [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]) if (s * pxPerSec >= 70) return s;
  return 120;
}
