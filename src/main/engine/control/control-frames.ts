import { StudioError } from '../../../shared/errors';

/**
 * Conditioning frames as a ControlNet takes them: RGB, channel-first, in [0, 1] — `uint8 / 255` in float32, the
 * way diffusers' control-image processor does it (do_normalize False: NOT the VAE's [-1, 1]).
 */

/** [F, H, W, 3] bytes → [F, 3, H, W] float32 in [0, 1]. */
export function controlImageFromRgb8(rgb: Uint8Array, frames: number, height: number, width: number): Float32Array {
  const hw = height * width;
  if (rgb.length !== frames * hw * 3) {
    throw new StudioError('INVALID_PARAMS', `Conditioning frames hold ${rgb.length} bytes; ${frames} RGB frames of ${width}×${height} need ${frames * hw * 3}.`);
  }
  const out = new Float32Array(frames * 3 * hw);
  const inv = Math.fround(255);
  for (let f = 0; f < frames; f++) {
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) out[(f * 3 + c) * hw + p] = Math.fround(rgb[(f * hw + p) * 3 + c] / inv);
    }
  }
  return out;
}

/**
 * Which conditioning frame each clip frame gets. One image: every frame. As many frames as the clip: one each.
 * More: the first `frames` are used (the rest ignored, said in `note`). Fewer: refused — repeating or stretching
 * motion would silently change the clip's timing.
 */
export function controlFrameIndices(available: number, frames: number): { indices: number[]; note?: string } {
  if (available === 1) return { indices: Array<number>(frames).fill(0) };
  if (available === frames) return { indices: Array.from({ length: frames }, (_, i) => i) };
  if (available > frames) {
    return { indices: Array.from({ length: frames }, (_, i) => i), note: `The control video has ${available} frames; the clip has ${frames}, so its first ${frames} are used.` };
  }
  throw new StudioError('INVALID_PARAMS', `The control video has ${available} frames but the clip has ${frames}: give at least ${frames} frames (or one image for every frame), or make the clip shorter.`, {
    available,
    frames,
  });
}
