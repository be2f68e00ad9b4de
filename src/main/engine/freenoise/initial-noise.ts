import { StudioError } from '../../../shared/errors';
import type { ContextMode, ContextNoise } from '../../../shared/domain/context-windows';
import type { TorchCpuGenerator } from '../noise/torch-randn';

/**
 * FreeNoise's initial noise (diffusers `_prepare_latents_free_noise`, @58eb52c), drawn from the pipeline's one
 * seeded generator so that the LCM step noise that follows comes from the same stream position as in diffusers.
 *
 *  - `random`: randn of all F frames.
 *  - `shuffle_context`: randn of all F frames, then for i = L, L+s, … < F: the s frames starting at i−L are
 *    permuted (torch randperm on the generator) and written to frames i…, truncated at F. In place and in order,
 *    so later steps read frames earlier steps wrote. Frames 0..L−1 stay as drawn.
 *  - `repeat_context`: diffusers draws F frames and then "repeats" an F-frame tensor, which changes nothing (the
 *    same noise as `random`); only a caller-given L-frame tensor is really repeated. The studio mode draws L frames
 *    and repeats them over the clip, which is what the option promises.
 *
 * Latents are [B, C, F, h, w] (diffusers' video layout).
 */
export interface FreeNoiseNoiseSpec {
  length: number;
  stride: number;
  noise: ContextNoise;
  mode: ContextMode;
}

export interface LatentDims {
  batch: number;
  channels: number;
  frames: number;
  height: number;
  width: number;
}

/**
 * The initial latents. `given` (diffusers' `latents=` argument) with F frames is returned as is; with L frames it
 * is repeated (repeat_context) or refused (shuffle_context fails in diffusers too).
 */
export function freeNoiseLatents(gen: TorchCpuGenerator, d: LatentDims, spec: FreeNoiseNoiseSpec, given?: { data: Float32Array; frames: number }): Float32Array {
  const { batch: B, channels: C, frames: F, height: h, width: w } = d;
  const L = spec.length;
  if (given && given.frames === F) return given.data;
  if (given && given.frames !== L) {
    throw new StudioError('INVALID_PARAMS', `Given latents have ${given.frames} frames; FreeNoise takes ${F} (the clip) or ${L} (one context window).`, { frames: given.frames });
  }
  if (given && spec.noise === 'shuffle_context') {
    throw new StudioError('INVALID_PARAMS', `shuffle_context needs latents of all ${F} frames, not one ${L}-frame window (diffusers fails here too).`, { frames: given.frames });
  }
  const studioRepeat = !given && spec.noise === 'repeat_context' && spec.mode === 'studio' && L < F;
  const drawn = given ? given.frames : studioRepeat ? L : F;
  const source = given ? given.data : gen.randn([B, C, drawn, h, w]);
  if (drawn !== F) return repeatFrames(source, B * C, drawn, F, h * w);
  if (spec.noise === 'shuffle_context') shuffleContext(gen, source, B * C, F, h * w, L, spec.stride);
  return source;
}

/** [BC, n, hw] repeated along frames and cut to F: frame f = frame f mod n. */
function repeatFrames(x: Float32Array, bc: number, n: number, F: number, hw: number): Float32Array {
  const out = new Float32Array(bc * F * hw);
  for (let r = 0; r < bc; r++) for (let f = 0; f < F; f++) out.set(x.subarray((r * n + (f % n)) * hw, (r * n + (f % n) + 1) * hw), (r * F + f) * hw);
  return out;
}

function shuffleContext(gen: TorchCpuGenerator, x: Float32Array, bc: number, F: number, hw: number, L: number, s: number): void {
  for (let i = L; i < F; i += s) {
    const start = i - L;
    const end = Math.min(F, start + s);
    const n = end - start;
    if (n <= 0) break;
    const perm = gen.randperm(n);
    const dest = Math.min(F, i + n) - i;
    for (let r = 0; r < bc; r++) {
      // The source frames are copied before the write (torch evaluates the gather first).
      const src = perm.slice(0, dest).map((p) => x.slice((r * F + start + p) * hw, (r * F + start + p + 1) * hw));
      src.forEach((frame, k) => x.set(frame, (r * F + i + k) * hw));
    }
  }
}
