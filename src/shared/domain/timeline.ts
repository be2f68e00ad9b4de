/**
 * Timelines (projects): ordered clips cut from finished generations. Frame indices are 0-based, `inFrame` inclusive,
 * `outFrame` exclusive, so a clip plays source frames inFrame … outFrame−1 and an untrimmed clip is 0 … frameCount.
 */
import type { GenerationOutputs } from './history';

export interface TimelineClip {
  id: number;
  timelineId: number;
  /** 0-based order within the timeline. */
  position: number;
  generationId: number;
  inFrame: number;
  outFrame: number;
  /** Playback speed multiplier (1 = the generation's own fps); 0.25 … 4. */
  speed: number;
  /** Seconds this clip fades in over the end of the previous one (0 = a cut; the first clip's is unused). */
  crossfade: number;
  /** What the clip is cut from, for drawing and export: the generation's outputs, fps, size and prompt. */
  source: TimelineClipSource;
}

export interface TimelineClipSource {
  outputs: GenerationOutputs | null;
  fps: number;
  width: number;
  height: number;
  prompt: string;
}

export interface Timeline {
  id: number;
  name: string;
  clips: TimelineClip[];
  /** ISO-8601 UTC timestamps. */
  createdAt: string;
  updatedAt: string;
}

/** For lists: a timeline without its clips. */
export interface TimelineSummary {
  id: number;
  name: string;
  clipCount: number;
  /** Sum over clips of (outFrame − inFrame) / speed. */
  totalFrames: number;
  createdAt: string;
  updatedAt: string;
}

export const CLIP_SPEED_MIN = 0.25;
export const CLIP_SPEED_MAX = 4;
export const CROSSFADE_MAX = 4;
