/**
 * The frame plan: which source PNG goes into each output frame, at what rate and size. Everything about time
 * (trims, speeds, output rate, ping-pong, loops) is decided here, in plain TypeScript that tests can read,
 * so ffmpeg only encodes a stream of frames it is given.
 *
 * Time resampling is nearest-frame (no blending): a clip of n frames at rate r = fps × speed lasts n / r
 * seconds and becomes round(n · F / r) output frames at output rate F; output frame k shows source frame
 * floor(k · r / F). At F = r this is the identity; a faster clip drops frames, a slower one repeats them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportOptions, ExportSource } from '../../shared/domain/export';
import type { GenerationParams } from '../../shared/domain/generation';
import { StudioError } from '../../shared/errors';
import { coerceParams } from '../formats/params-text';
import { joinWithCrossfade, type PlannedFrame } from './crossfade';
import { readPngSize } from '../formats/png';

export interface FramePlan {
  /**
   * One PNG path per output frame (after speed, ping-pong and, except for GIF, loop repetition); a crossfade's
   * frames are blends of two (crossfade.ts).
   */
  files: PlannedFrame[];
  fps: number;
  /** Size of the first source frame. */
  sourceWidth: number;
  sourceHeight: number;
  /** True when clips differ in size, so each frame must be fitted into the output size. */
  mixedSizes: boolean;
  /** How many times the result should play: repeated in `files`, except for GIF (loop extension). */
  plays: number;
  params?: GenerationParams;
}

const FRAME_NAME = /^frame_\d+\.png$/i;

/**
 * The PNG frames of a folder in name order (numeric-aware). When the folder holds `frame_NNNN.png` files only
 * those count, so a preview or thumbnail beside them is not exported as a frame.
 */
export function listFrames(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new StudioError('EXPORT_INVALID', `${dir} is not a folder of PNG frames.`, { dir });
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw new StudioError('FILE_NOT_FOUND', `The frames folder ${dir} does not exist or cannot be read.`, { dir, cause: (e as Error).message });
  }
  const pngs = names.filter((n) => n.toLowerCase().endsWith('.png'));
  const framed = pngs.filter((n) => FRAME_NAME.test(n));
  const chosen = framed.length > 0 ? framed : pngs;
  chosen.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return chosen.map((n) => join(dir, n));
}

/** The folder's params.json, if any and valid. */
export function readFramesParams(dir: string): GenerationParams | undefined {
  try {
    return coerceParams(JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')));
  } catch {
    return undefined;
  }
}

function pngSize(file: string): { width: number; height: number } {
  try {
    return readPngSize(readFileSync(file));
  } catch (e) {
    throw new StudioError('FORMAT_MISMATCH', `Frame ${file} is not a readable PNG.`, { file, cause: (e as Error).message });
  }
}

const positive = (v: number) => Number.isFinite(v) && v > 0;

/** Ping-pong without doubling the turning frames: a b c d → a b c d c b (loops seamlessly back to a). */
export function pingpong<T>(seq: readonly T[]): T[] {
  return seq.length < 3 ? [...seq] : [...seq, ...seq.slice(1, -1).reverse()];
}

/** Source indices for one clip: `n` frames starting at `inFrame`, rate `rate`, resampled to output rate `fps`. */
export function resampleIndices(inFrame: number, n: number, rate: number, fps: number): number[] {
  const count = Math.max(1, Math.round((n * fps) / rate));
  const out: number[] = [];
  // The epsilon keeps exact ratios (k · r / F integral) from rounding down a frame through float error.
  for (let k = 0; k < count; k++) out.push(inFrame + Math.min(n - 1, Math.floor((k * rate) / fps + 1e-9)));
  return out;
}

export function planFrames(source: ExportSource, options: ExportOptions): FramePlan {
  const clips =
    source.kind === 'frames'
      ? [{ dir: source.dir, fps: source.fps, inFrame: 0, outFrame: Number.POSITIVE_INFINITY, speed: 1, params: source.params }]
      : source.clips;
  if (clips.length === 0) throw new StudioError('EXPORT_INVALID', 'The timeline is empty: add a clip before exporting.');
  for (const c of clips) {
    if (!positive(c.fps)) throw new StudioError('EXPORT_INVALID', `Clip ${c.dir} has an invalid frame rate ${c.fps}.`, { dir: c.dir });
    if (!positive(c.speed)) throw new StudioError('EXPORT_INVALID', `Clip ${c.dir} has an invalid speed ${c.speed}; use a value above 0.`, { dir: c.dir });
  }
  const fps = options.fps ?? Math.max(...clips.map((c) => c.fps));
  if (!positive(fps) || fps > 240) throw new StudioError('EXPORT_INVALID', `Frame rate ${fps} is out of range (above 0, at most 240).`, { fps });

  let files: PlannedFrame[] = [];
  const sizes: Array<{ width: number; height: number }> = [];
  let previous = 0;
  for (const [k, c] of clips.entries()) {
    const frames = listFrames(c.dir);
    if (frames.length === 0) throw new StudioError('EXPORT_INVALID', `The folder ${c.dir} holds no PNG frames, so there is nothing to export.`, { dir: c.dir });
    const outFrame = Math.min(c.outFrame, frames.length);
    if (!Number.isInteger(c.inFrame) || c.inFrame < 0 || c.inFrame >= outFrame || (Number.isFinite(c.outFrame) && (!Number.isInteger(c.outFrame) || c.outFrame > frames.length))) {
      throw new StudioError(
        'EXPORT_INVALID',
        `Clip ${c.dir} is trimmed to frames ${c.inFrame}–${c.outFrame}, but it has ${frames.length} frames; the trim must keep at least one frame.`,
        { dir: c.dir, inFrame: c.inFrame, outFrame: c.outFrame, frames: frames.length },
      );
    }
    sizes.push(pngSize(frames[c.inFrame]));
    const own = resampleIndices(c.inFrame, outFrame - c.inFrame, c.fps * c.speed, fps).map((i) => frames[i]);
    // A crossfade overlaps this clip's start with the previous clip's end; both must be long enough to hold it.
    const fade = k > 0 && c.crossfade ? Math.round(c.crossfade * fps) : 0;
    if (fade > 0 && (fade >= own.length || fade >= previous)) {
      throw new StudioError(
        'EXPORT_INVALID',
        `The ${c.crossfade} s crossfade into clip ${k + 1} is as long as a clip it joins (${(previous / fps).toFixed(2)} s and ${(own.length / fps).toFixed(2)} s); shorten the crossfade.`,
        { clip: k + 1, crossfade: c.crossfade, previousFrames: previous, frames: own.length },
      );
    }
    files = joinWithCrossfade(files, own, fade);
    previous = own.length;
  }

  if (options.pingpong) files = pingpong(files);
  const plays = options.loop ?? (options.format === 'gif' ? 0 : 1);
  if (!Number.isInteger(plays) || plays < 0 || plays > 1000 || (plays === 0 && options.format !== 'gif')) {
    throw new StudioError('EXPORT_INVALID', `Loop count ${options.loop} is out of range (1–1000; 0 = forever, GIF only).`, { loop: options.loop });
  }
  if (options.format !== 'gif' && plays > 1) {
    const once = files;
    files = [];
    for (let i = 0; i < plays; i++) files.push(...once);
  }
  const first = sizes[0];
  const params = options.params ?? clips.find((c) => c.params)?.params ?? (source.kind === 'frames' ? readFramesParams(source.dir) : undefined);
  return {
    files,
    fps,
    sourceWidth: first.width,
    sourceHeight: first.height,
    mixedSizes: sizes.some((s) => s.width !== first.width || s.height !== first.height),
    plays,
    params,
  };
}
