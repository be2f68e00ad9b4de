/**
 * The ControlNet guidance window and scale per step, exactly as diffusers' pipelines compute them:
 *   keep_i = 1.0 − float(i/n < start or (i+1)/n > end)     (Python floats, n = the steps that run)
 * so the start test is on i/n and the end test on (i+1)/n. The effective scale is keep·scale, applied as a
 * float32 multiply in the ControlNet graph (torch's scalar rule), so a step outside the window gives exact zeros.
 */

export interface ControlWindow {
  /** Fraction of the steps (0–1) before which the unit is off. */
  start: number;
  /** Fraction of the steps (0–1) after which the unit is off. */
  end: number;
}

export function controlKeep(step: number, steps: number, w: ControlWindow): 0 | 1 {
  return step / steps < w.start || (step + 1) / steps > w.end ? 0 : 1;
}

/** keep·scale for every step. */
export function effectiveScales(steps: number, scale: number, w: ControlWindow): number[] {
  return Array.from({ length: steps }, (_, i) => controlKeep(i, steps, w) * scale);
}
