/**
 * Export as every layer sees it: what to export (a generation's frames or a timeline of trimmed clips), how
 * (format, rate, size, quality, loop, ping-pong), its progress events and its result. Pure data, JSON-safe.
 */
import type { GenerationParams } from './generation';

export type ExportFormat = 'mp4' | 'webm' | 'gif' | 'png';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['mp4', 'webm', 'gif', 'png'];

/** Named quality presets; each codec maps them onto its own scale (CRF for H.264/VP9, dithering for GIF). */
export type ExportQuality = 'low' | 'medium' | 'high' | 'max';

export const EXPORT_QUALITIES: readonly ExportQuality[] = ['low', 'medium', 'high', 'max'];

/** One clip of a timeline: frames `inFrame` … `outFrame − 1` of the folder `dir`, played at `speed`× its `fps`. */
export interface ExportClip {
  /** Folder of PNG frames in name order (`frame_0000.png` …). */
  dir: string;
  /** The rate the clip's frames were made to play at. */
  fps: number;
  /** First frame used (0-based, inclusive). */
  inFrame: number;
  /** End of the trim (exclusive); at most the number of frames in `dir`. */
  outFrame: number;
  /** Playback speed: 2 plays twice as fast (half the duration), 0.5 half as fast. */
  speed: number;
  /** Seconds this clip fades in over the end of the previous one (0 or absent: a cut). */
  crossfade?: number;
  params?: GenerationParams;
}

/** What to export, independent of how the store names things (the services map ids onto this). */
export type ExportSource =
  | { kind: 'frames'; dir: string; fps: number; params?: GenerationParams }
  | { kind: 'sequence'; clips: ExportClip[] };

export interface ExportOptions {
  format: ExportFormat;
  /**
   * Output frame rate. Undefined: the source's own rate (a timeline: its fastest clip's). Time is preserved:
   * a different rate repeats or drops frames (nearest frame), it does not change how long the clip plays.
   */
  fps?: number;
  /** Preset (default 'high'). Ignored by PNG, which is lossless. */
  quality?: ExportQuality;
  /** Overrides the preset with an explicit CRF (H.264 0–51, VP9 0–63). */
  crf?: number;
  /**
   * Output size. Omitted: the source size. One side 0: computed from the other keeping the aspect ratio.
   * Scaling uses Lanczos; a source of another aspect ratio is fitted inside and padded (letterboxed).
   */
  scale?: { width: number; height: number };
  /**
   * How many times the clip plays (default 1). MP4, WebM and PNG repeat the frames; GIF writes it into its
   * loop extension instead (no repeated frames in the file), and an unset value means "loop forever" there.
   */
  loop?: number;
  /** Forward then backward (0 … n−1, n−2 … 1): loops seamlessly, the end frames are not doubled. */
  pingpong?: boolean;
  /** Parameters to embed; defaults to the source's (the first clip's for a timeline). */
  params?: GenerationParams;
  /** Skip embedding parameters (a creator may not want the prompt inside a shared file). */
  stripParams?: boolean;
}

export interface ExportProgress {
  /** Frames written so far and the total the file will hold. */
  frame: number;
  totalFrames: number;
  /** 0 … 1. */
  fraction: number;
  /** Media time written so far, milliseconds. */
  outTimeMs: number;
  done: boolean;
}

export interface ExportResult {
  /** The finished file (or folder, for a PNG sequence). */
  path: string;
  format: ExportFormat;
  frames: number;
  width: number;
  height: number;
  fps: number;
  durationMs: number;
  /** Size on disk (the sum of all frames for a PNG sequence). */
  bytes: number;
}

/** Parameters read back out of an exported file (or a frames folder). */
export interface EmbeddedParams {
  /** Full parameters when the file carries our JSON, else what could be parsed from the A1111-style text. */
  params?: GenerationParams;
  /** The A1111-style text ("prompt\nNegative prompt: …\nSteps: …"), when present. */
  text?: string;
  /** Where they came from: 'json' (complete) or 'text' (parsed from the A1111 line; may be partial). */
  source?: 'json' | 'text';
}
