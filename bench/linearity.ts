/**
 * Whether a cost grows linearly with a size: the least-squares line a + b·x through the points, and how far the
 * worst point lies from it, relative to the line. "Linear" is affine on purpose: FreeNoise's window count is
 * F/stride − (length/stride − 1), so the motion attentions' work is b·F minus a constant (negative a), and the
 * weights and the process are a constant part of peak memory (positive a). Neither makes cost per frame constant.
 */

export interface LinearFit {
  /** Intercept a. */
  intercept: number;
  /** Slope b, per unit of x. */
  slope: number;
  /** max over points of |y − (a + b·x)| / (a + b·x). */
  worstDeviation: number;
  /** The point (x) that deviates most. */
  worstAt: number;
}

export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length || xs.length < 2) throw new Error(`a line needs two or more points (got ${xs.length} x and ${ys.length} y)`);
  const n = xs.length;
  const mx = xs.reduce((a, v) => a + v, 0) / n;
  const my = ys.reduce((a, v) => a + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  if (sxx === 0) throw new Error('a line needs two different x');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let worstDeviation = 0;
  let worstAt = xs[0];
  xs.forEach((x, i) => {
    const d = Math.abs(ys[i] - (intercept + slope * x)) / Math.abs(intercept + slope * x);
    if (d > worstDeviation) {
      worstDeviation = d;
      worstAt = x;
    }
  });
  return { intercept, slope, worstDeviation, worstAt };
}
