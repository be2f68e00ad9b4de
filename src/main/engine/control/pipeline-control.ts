import { StudioError } from '../../../shared/errors';
import { addResiduals, cloneResiduals, type ControlResiduals } from './control-residuals';
import { effectiveScales, type ControlWindow } from './control-window';
import type { ControlNetCallShape } from './controlnet-model';

/**
 * The pipeline's one hook for ControlNets: per step, every unit runs on the step's UNet input (all frames and
 * both CFG halves in one 2-D call, row = half·F + frame, the uncond half with the same control as the cond half:
 * diffusers with guess mode off), scaled by keep·scale; the residuals sum in unit order. A unit outside its
 * window is not run (its residuals would be exact zeros); when no unit is on, the UNet gets zeros.
 */

/** What the pipeline needs from a loaded ControlNet. */
export interface ControlNetRunner {
  run(sample: Float32Array, timestep: number, context: Float32Array, cond: Float32Array, scale: number, shape: ControlNetCallShape): Promise<ControlResiduals>;
  /** Residuals of zeros for a call of `shape` (the UNet's skip shapes). */
  zeros(shape: ControlNetCallShape): ControlResiduals;
}

export interface ControlUnitRun extends ControlWindow {
  net: ControlNetRunner;
  /** The conditioning frames, [F, 3, H, W] RGB in [0, 1], one per clip frame (already sized to the output). */
  frames: Float32Array;
  scale: number;
}

export interface PipelineControl {
  units: ControlUnitRun[];
  /** Called with each unit's residuals (after scaling) at each step it runs: for verification. */
  onUnitResiduals?: (step: number, unit: number, r: ControlResiduals) => void;
}

export interface ControlStepShape {
  /** Videos in the call: 2 with CFG. */
  batch: number;
  frames: number;
  latentHeight: number;
  latentWidth: number;
  tokens: number;
  /** The UNet call's sample-chunk rows (the guard's CPU memory plan); the ControlNet follows it. */
  chunkRows?: number;
}

/** Checks the units against the clip before anything runs: frame counts and sizes. */
export function checkControlUnits(units: readonly ControlUnitRun[], frames: number, width: number, height: number): void {
  units.forEach((u, i) => {
    const want = frames * 3 * width * height;
    if (u.frames.length !== want) {
      throw new StudioError('INVALID_PARAMS', `ControlNet unit ${i + 1}: its conditioning frames hold ${u.frames.length} values; the clip needs ${frames} frames of 3×${height}×${width}.`, { unit: i, frames, width, height });
    }
    if (!(u.start >= 0 && u.end <= 1 && u.start < u.end)) {
      throw new StudioError('INVALID_PARAMS', `ControlNet unit ${i + 1}: the window must satisfy 0 ≤ start < end ≤ 1 (got ${u.start}–${u.end}).`, { unit: i });
    }
    if (!Number.isFinite(u.scale)) throw new StudioError('INVALID_PARAMS', `ControlNet unit ${i + 1}: the scale must be a number.`, { unit: i });
  });
}

export class ControlStepper {
  private readonly scales: number[][];
  private readonly conds: Float32Array[];

  constructor(
    private readonly control: PipelineControl,
    steps: number,
    batch: number,
  ) {
    this.scales = control.units.map((u) => effectiveScales(steps, u.scale, u));
    // The same frames for both CFG halves.
    this.conds = control.units.map((u) => {
      if (batch === 1) return u.frames;
      const out = new Float32Array(u.frames.length * batch);
      for (let b = 0; b < batch; b++) out.set(u.frames, b * u.frames.length);
      return out;
    });
  }

  /** The summed residuals for step `i`, given the UNet's input of that step. */
  async residuals(i: number, sample: Float32Array, timestep: number, context: Float32Array, s: ControlStepShape): Promise<ControlResiduals> {
    const shape: ControlNetCallShape = { rows: s.batch * s.frames, latentHeight: s.latentHeight, latentWidth: s.latentWidth, tokens: s.tokens, ...(s.chunkRows ? { chunkRows: s.chunkRows } : {}) };
    let sum: ControlResiduals | undefined;
    for (let u = 0; u < this.control.units.length; u++) {
      const scale = this.scales[u][i];
      if (scale === 0) continue;
      const r = await this.control.units[u].net.run(sample, timestep, context, this.conds[u], scale, shape);
      this.control.onUnitResiduals?.(i, u, r);
      sum = sum ? addResiduals(sum, r) : cloneResiduals(r);
    }
    return sum ?? this.control.units[0].net.zeros(shape);
  }
}
