import { compareArrays } from '../src/main/verify/compare';

/**
 * How far an approximate output (the int8 plan's) is from its fp32 reference, in the figures issue 20 item 4 asks
 * for: max and mean |Δ| and relative L2 of float tensors, PSNR of decoded 8-bit frames.
 */

export interface DiffStats {
  maxAbs: number;
  meanAbs: number;
  /** ‖actual − ref‖₂ ÷ ‖ref‖₂ (‖Δ‖₂ when the reference is all zeros). */
  relL2: number;
}

export function diffStats(actual: ArrayLike<number>, ref: ArrayLike<number>): DiffStats {
  if (actual.length !== ref.length || ref.length === 0) throw new Error(`diffStats: ${actual.length} values against ${ref.length}`);
  // max |Δ| and relative L2 exactly as verify judges fixtures; the mean is the one figure it does not give.
  const c = compareArrays('', '', actual, ref);
  let sum = 0;
  for (let i = 0; i < ref.length; i++) sum += Math.abs(actual[i] - ref[i]);
  return { maxAbs: c.maxAbs, meanAbs: sum / ref.length, relL2: c.relL2 };
}

/**
 * Peak signal-to-noise ratio of 8-bit images, dB: 10·log10(255² ÷ MSE) over every byte of every image (the frames
 * of a clip count as one signal, so one bad frame lowers the figure as much as its share of the bytes). Identical
 * images give +Infinity.
 */
export function psnr8(actual: readonly Uint8Array[], ref: readonly Uint8Array[]): number {
  if (actual.length !== ref.length || ref.length === 0) throw new Error(`psnr8: ${actual.length} images against ${ref.length}`);
  let se = 0;
  let n = 0;
  for (let k = 0; k < ref.length; k++) {
    const a = actual[k];
    const r = ref[k];
    if (a.length !== r.length) throw new Error(`psnr8: image ${k} has ${a.length} bytes against ${r.length}`);
    for (let i = 0; i < r.length; i++) {
      const d = a[i] - r[i];
      se += d * d;
    }
    n += r.length;
  }
  return se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255 * n) / se);
}
