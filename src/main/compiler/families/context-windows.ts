import { StudioError } from '../../../shared/errors';
import type { ContextMode, ContextWeighting } from '../../../shared/domain/context-windows';

/**
 * FreeNoise context windows as data: which frames each window covers, the weight of each window position, and for
 * every frame which (window, position) outputs are summed and by what it is divided. The motion-module graph
 * (motion.ts) turns this into a Gather of windows, one batched attention, a weighted Gather-sum and a Div.
 *
 * `diffusers` mode is diffusers @58eb52c (`FreeNoiseTransformerBlock._get_frame_indices`, `_get_frame_weights`,
 * its forward's accumulation), defects included:
 *  - the appended tail window [F−L, F) accumulates only its last `tail` frames, and adds the ONE weight
 *    w[L−tail] to their denominators (it indexes `weights[:, -n]`), so tail frame j comes out scaled by
 *    w[L−tail+j]/w[L−tail];
 *  - a stride above the length leaves frames in no window (their fused value is 0);
 *  - delayed_reverse_sawtooth with an odd length has L+1 weights (diffusers fails; so does this, the same way).
 * `studio` mode: the tail window is an ordinary window (all L frames blend with their true weights, so there is
 * no seam before it), odd-length sawtooth has L weights, and stride ≥ length is refused.
 * Denominators are float32 sums in window order, as diffusers' float32 `num_times_accumulated`.
 */

export interface ContextWindowSpec {
  length: number;
  stride: number;
  weighting: ContextWeighting;
  mode: ContextMode;
}

export interface WindowFusionPlan {
  frames: number;
  length: number;
  /** Window starts in processing order; every window is [start, start + length). */
  starts: number[];
  /** Weight of each window position (length values), float32. */
  weights: Float32Array;
  /**
   * Contributions per frame in window order: slot k holds, for each frame, the flat index window·L + position of
   * its k-th contribution, or starts.length·L (a zero row) when it has fewer.
   */
  slots: number[][];
  /** What each frame's weighted sum is divided by (1 where the frame is in no window: its sum is 0). */
  denominators: Float32Array;
  /** Frames no window covers (diffusers mode, stride > length). */
  framesInNoWindow: number[];
  /** The windows in processing order, a few at a time (windowGroups); the graph runs one group after another. */
  groups: WindowGroup[];
  /** Frames in the order the groups complete them; the identity in both modes today (checked, not assumed). */
  completionOrder: number[];
}

/**
 * A run of consecutive windows whose attentions the graph batches together. Its weighted outputs are summed into
 * an accumulator whose rows are `frames`: first the frames carried from the group before (their partial sums),
 * then the frames this group reaches first. `sources[k][row]` is the k-th term of that row's sum as an index into
 * [carried partial sums, this group's n·L weighted window rows, one zero row]; a carried frame's partial sum is
 * its first term, so every frame still sums its contributions one by one in window order (diffusers' order, the
 * same float32 result as summing all windows at once).
 */
export interface WindowGroup {
  /** Indices into `starts`. */
  windows: number[];
  frames: number[];
  sources: number[][];
  /** Accumulator rows that are complete after this group (no later window reaches their frames). */
  done: number[];
  /** Accumulator rows carried to the next group, in its row order. */
  carried: number[];
}

/**
 * Frame positions batched per group: the attentions of ⌊64 / L⌋ windows at a time (4 at the default length 16).
 * A group's working set is then that of a 64-frame plain motion block, whatever the clip's length; only the block's
 * input, the finished frames and a carry of L − stride frames grow with F.
 */
export const GROUP_FRAME_POSITIONS = 64;

/** diffusers `_get_frame_weights(L, scheme)`; `studio` gives odd-length sawtooth L weights instead of L+1. */
export function contextWeights(length: number, weighting: ContextWeighting, mode: ContextMode): Float32Array {
  const L = length;
  let w: number[];
  if (weighting === 'flat') {
    w = Array.from({ length: L }, () => 1);
  } else if (weighting === 'pyramid') {
    if (L % 2 === 0) {
      const up = Array.from({ length: L / 2 }, (_, i) => i + 1);
      w = [...up, ...up.slice().reverse()];
    } else {
      const mid = (L + 1) / 2;
      const up = Array.from({ length: mid - 1 }, (_, i) => i + 1);
      w = [...up, mid, ...up.slice().reverse()];
    }
  } else {
    const mid = L % 2 === 0 ? L / 2 : (L + 1) / 2;
    const down = Array.from({ length: mid }, (_, i) => mid - i);
    const delay = Array.from({ length: mid - 1 }, () => 0.01);
    w = L % 2 === 1 && mode === 'studio' ? [...delay, ...down] : [...delay, mid, ...down];
  }
  if (w.length !== L) {
    throw new StudioError('INVALID_PARAMS', `delayed_reverse_sawtooth weighting with an odd context length (${L}) gives ${w.length} weights for ${L} frames, which diffusers cannot apply (it fails with a shape error). Use an even context length, or the studio mode.`, { contextLength: L, weighting });
  }
  return Float32Array.from(w);
}

/**
 * Refuses what cannot run and returns warnings for what runs but is unwise. `trainedFrames` is the motion
 * module's motion_max_seq_length.
 */
export function checkContextWindows(spec: ContextWindowSpec, frames: number, trainedFrames: number): string[] {
  const bad = (message: string): never => {
    throw new StudioError('INVALID_PARAMS', message, { contextLength: spec.length, contextStride: spec.stride, frames });
  };
  if (!Number.isInteger(spec.length) || spec.length < 1) bad(`The context length must be a whole number of frames, at least 1 (got ${spec.length}).`);
  if (!Number.isInteger(spec.stride) || spec.stride < 1) bad(`The context stride must be a whole number of frames, at least 1 (got ${spec.stride}).`);
  if (spec.mode === 'studio' && spec.stride >= spec.length) {
    bad(`The context stride (${spec.stride}) must be below the context length (${spec.length}): windows that do not overlap leave a seam at every window edge${spec.stride > spec.length ? ' and frames that no window covers' : ''}.`);
  }
  if (spec.mode === 'diffusers' && frames < spec.length) {
    bad(`${frames} frames are fewer than the context length ${spec.length}; diffusers' FreeNoise needs at least one whole window (the studio mode uses one window of all frames).`);
  }
  contextWeights(spec.length, spec.weighting, spec.mode);
  const warnings: string[] = [];
  if (spec.length > trainedFrames) {
    // diffusers logs the same warning in enable_free_noise.
    warnings.push(`The context length ${spec.length} is above the ${trainedFrames} frames this motion module was trained on; motion may degrade. Use ${trainedFrames} or less.`);
  }
  return warnings;
}

/** Window starts as the block processes them (the appended tail window last) and the tail size (diffusers mode). */
export function windowStarts(frames: number, length: number, stride: number): { starts: number[]; tail: number | undefined } {
  const starts: number[] = [];
  for (let s = 0; s <= frames - length; s += stride) starts.push(s);
  const lastEnd = starts.length > 0 ? starts[starts.length - 1] + length : 0;
  if (lastEnd === frames) return { starts, tail: undefined };
  starts.push(frames - length);
  return { starts, tail: frames - lastEnd };
}

/**
 * The fusion plan for `frames` frames, or undefined when the studio would use a single window of every frame (the
 * plain motion module is then the same computation).
 */
export function windowFusionPlan(frames: number, spec: ContextWindowSpec, windowsPerGroup = Math.max(1, Math.floor(GROUP_FRAME_POSITIONS / spec.length))): WindowFusionPlan | undefined {
  if (spec.mode === 'studio' && frames <= spec.length) return undefined;
  if (frames < spec.length) throw new StudioError('INVALID_PARAMS', `${frames} frames are fewer than the context length ${spec.length}.`, { frames, contextLength: spec.length });
  const L = spec.length;
  const weights = contextWeights(L, spec.weighting, spec.mode);
  const { starts, tail } = windowStarts(frames, L, spec.stride);
  const contributions: number[][] = Array.from({ length: frames }, () => []);
  const denominators = new Float32Array(frames);
  starts.forEach((start, wi) => {
    const quirkTail = spec.mode === 'diffusers' && tail !== undefined && wi === starts.length - 1 ? tail : undefined;
    for (let p = 0; p < L; p++) {
      if (quirkTail !== undefined && p < L - quirkTail) continue;
      const f = start + p;
      contributions[f].push(wi * L + p);
      denominators[f] = Math.fround(denominators[f] + (quirkTail !== undefined ? weights[L - quirkTail] : weights[p]));
    }
  });
  const none = starts.length * L;
  const depth = Math.max(...contributions.map((c) => c.length));
  const slots = Array.from({ length: depth }, (_, k) => contributions.map((c) => c[k] ?? none));
  const framesInNoWindow = contributions.flatMap((c, f) => (c.length === 0 ? [f] : []));
  for (const f of framesInNoWindow) denominators[f] = 1;
  const { groups, completionOrder } = windowGroups(starts, L, contributions, windowsPerGroup);
  return { frames, length: L, starts, weights, slots, denominators, framesInNoWindow, groups, completionOrder };
}

/**
 * Splits the windows into groups of `perGroup` (processing order) and plans each group's accumulator:
 * `contributions[f]` lists frame f's flat indices window·L + position in window order. A frame in no window
 * (diffusers, stride > length) is completed, as a zero sum, by the group of the first window after it.
 */
export function windowGroups(starts: number[], length: number, contributions: number[][], perGroup: number): { groups: WindowGroup[]; completionOrder: number[] } {
  if (!Number.isInteger(perGroup) || perGroup < 1) throw new Error(`windows per group must be a whole number ≥ 1 (got ${perGroup})`);
  const count = Math.ceil(starts.length / perGroup);
  const groupOf = (window: number): number => Math.floor(window / perGroup);
  // the group after which a frame is complete
  const lastGroup = contributions.map((c, f) => {
    if (c.length > 0) return groupOf(Math.floor(c[c.length - 1] / length));
    const next = starts.findIndex((s) => s > f);
    return next < 0 ? count - 1 : groupOf(next);
  });
  const groups: WindowGroup[] = [];
  const completionOrder: number[] = [];
  let carriedFrames: number[] = [];
  for (let gi = 0; gi < count; gi++) {
    const first = gi * perGroup;
    const windows = Array.from({ length: Math.min(perGroup, starts.length - first) }, (_, i) => first + i);
    const lo = first * length;
    const hi = (first + windows.length) * length;
    const carried = new Set(carriedFrames);
    const reached = contributions.flatMap((c, f) => (!carried.has(f) && (c.some((i) => i >= lo && i < hi) || (c.length === 0 && lastGroup[f] === gi)) ? [f] : []));
    const frames = [...carriedFrames, ...reached];
    const zero = carriedFrames.length + hi - lo;
    const terms = frames.map((f, row) => [...(row < carriedFrames.length ? [row] : []), ...contributions[f].filter((i) => i >= lo && i < hi).map((i) => carriedFrames.length + i - lo)]);
    const depth = Math.max(1, ...terms.map((t) => t.length));
    const sources = Array.from({ length: depth }, (_, k) => terms.map((t) => t[k] ?? zero));
    const done = frames.flatMap((f, row) => (lastGroup[f] <= gi ? [row] : []));
    const next = frames.flatMap((f, row) => (lastGroup[f] > gi ? [row] : []));
    completionOrder.push(...done.map((row) => frames[row]));
    groups.push({ windows, frames, sources, done, carried: next });
    carriedFrames = next.map((row) => frames[row]);
  }
  return { groups, completionOrder };
}
