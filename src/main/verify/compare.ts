import type { Comparison } from './types';

export interface CompareOptions {
  /** Elementwise: |a − ref| ≤ atol + rtol·|ref|. Defaults: the fp32 acceptance of the fixtures (1e-4, 1e-4). */
  atol?: number;
  rtol?: number;
  /** Relative mode: pass when ‖a − ref‖₂ / ‖ref‖₂ ≤ maxRelL2 (for quantities that grow large, e.g. LCM latents). */
  maxRelL2?: number;
}

/** Compares `actual` with `ref` and returns the numbers a Comparison needs. */
export function compareArrays(
  caseName: string,
  what: string,
  actual: ArrayLike<number>,
  ref: ArrayLike<number>,
  opts: CompareOptions = {},
): Comparison {
  if (actual.length !== ref.length) {
    return { case: caseName, what, maxAbs: Number.POSITIVE_INFINITY, relL2: Number.POSITIVE_INFINITY, pass: false, note: `length ${actual.length} ≠ ${ref.length}` };
  }
  const atol = opts.atol ?? 1e-4;
  const rtol = opts.rtol ?? 1e-4;
  let maxAbs = 0;
  let diff2 = 0;
  let ref2 = 0;
  let elementwiseOk = true;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const d = Math.abs(actual[i] - r);
    if (!(d <= atol + rtol * Math.abs(r))) elementwiseOk = false; // NaN fails too
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Number.NaN : Math.max(maxAbs, d);
    diff2 += d * d;
    ref2 += r * r;
  }
  const relL2 = ref2 > 0 ? Math.sqrt(diff2 / ref2) : Math.sqrt(diff2);
  const pass = opts.maxRelL2 !== undefined ? relL2 <= opts.maxRelL2 && !Number.isNaN(maxAbs) : elementwiseOk;
  return { case: caseName, what, maxAbs, relL2, pass };
}

export function formatComparison(c: Comparison): string {
  const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x));
  return `${c.pass ? 'PASS' : 'FAIL'} ${c.case} ${c.what} max_abs=${fmt(c.maxAbs)} rel_l2=${fmt(c.relL2)}${c.note ? ` (${c.note})` : ''}`;
}
