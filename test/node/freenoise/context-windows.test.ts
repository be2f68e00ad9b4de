import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkContextWindows, contextWeights, windowFusionPlan, type ContextWindowSpec } from '../../../src/main/compiler/families/context-windows';
import type { ContextWeighting } from '../../../src/shared/domain/context-windows';
import { StudioError } from '../../../src/shared/errors';

/**
 * The window plan against diffusers' recorded fusion tables (freenoise_components block cases and both pipeline
 * cases, diffusers mode), and the studio mode's fixes on the same configurations.
 */

const REF = join(__dirname, '../../fixtures/reference');

interface FusionRow {
  frame: number;
  contributions: Array<[number, number, number]>;
  denominator: number;
}
interface BlockCase {
  num_frames: number;
  context_length: number;
  context_stride: number;
  weighting_scheme: ContextWeighting;
  windows: Array<[number, number]>;
  fusion: FusionRow[];
}

function recordedCases(): BlockCase[] {
  const comps = JSON.parse(readFileSync(join(REF, 'freenoise_components/files.json'), 'utf8')) as { block: { cases: BlockCase[] } };
  const pipes = ['pipeline_animatediff_lcm_freenoise', 'pipeline_animatediff_lcm_freenoise_prompt_travel'].map((d) => {
    const f = JSON.parse(readFileSync(join(REF, d, 'files.json'), 'utf8')) as { run: { frames: number }; free_noise: Omit<BlockCase, 'num_frames'> };
    return { ...f.free_noise, num_frames: f.run.frames };
  });
  return [...comps.block.cases, ...pipes];
}

const spec = (c: BlockCase, mode: 'studio' | 'diffusers'): ContextWindowSpec => ({ length: c.context_length, stride: c.context_stride, weighting: c.weighting_scheme, mode });

describe('context windows: diffusers mode reproduces the recorded fusion', () => {
  const cases = recordedCases();
  it('covers the recorded configurations (10)', () => expect(cases.length).toBe(10));
  for (const c of cases) {
    it(`F${c.num_frames} L${c.context_length} s${c.context_stride} ${c.weighting_scheme}`, () => {
      const plan = windowFusionPlan(c.num_frames, spec(c, 'diffusers'));
      if (!plan) throw new Error('no plan');
      expect(plan.starts.map((s) => [s, s + plan.length])).toEqual(c.windows);
      const L = plan.length;
      for (const row of c.fusion) {
        const mine = plan.slots.map((slot) => slot[row.frame]).filter((i) => i < plan.starts.length * L);
        expect(mine.map((i) => [Math.floor(i / L), i % L, plan.weights[i % L]])).toEqual(row.contributions.map(([w, p, wt]) => [w, p, Math.fround(wt)]));
        // A frame in no window divides 0 by 1 (diffusers keeps the 0).
        expect(plan.denominators[row.frame]).toBe(row.contributions.length === 0 ? 1 : Math.fround(row.denominator));
      }
    });
  }
});

describe('context windows: studio mode', () => {
  it('every frame of every clip is a weighted mean (weights over denominator = 1), the tail window blending all its frames', () => {
    for (const c of recordedCases().filter((k) => k.context_stride < k.context_length && k.num_frames > k.context_length)) {
      const plan = windowFusionPlan(c.num_frames, spec(c, 'studio'));
      if (!plan) throw new Error('no plan');
      const L = plan.length;
      for (let f = 0; f < c.num_frames; f++) {
        const w = plan.slots.map((s) => s[f]).filter((i) => i < plan.starts.length * L).reduce((a, i) => Math.fround(a + plan.weights[i % L]), 0);
        expect(w / plan.denominators[f]).toBeCloseTo(1, 6);
      }
      expect(plan.framesInNoWindow).toEqual([]);
    }
    // F10 L4 s4 in diffusers mode halves frame 9; the studio's tail window [6,10) blends with [4,8).
    const tail = windowFusionPlan(10, { length: 4, stride: 3, weighting: 'pyramid', mode: 'studio' });
    expect(tail?.starts).toEqual([0, 3, 6]);
    const tail2 = windowFusionPlan(11, { length: 4, stride: 3, weighting: 'pyramid', mode: 'studio' });
    expect(tail2?.starts).toEqual([0, 3, 6, 7]);
    expect(Array.from(tail2?.denominators ?? [])).toEqual([1, 2, 2, 2, 2, 2, 2, 3, 4, 3, 1]);
  });

  it('odd-length delayed_reverse_sawtooth has L weights in the studio and fails in diffusers mode as diffusers does', () => {
    expect(Array.from(contextWeights(5, 'delayed_reverse_sawtooth', 'studio'))).toEqual([0.01, 0.01, 3, 2, 1].map(Math.fround));
    expect(Array.from(contextWeights(6, 'delayed_reverse_sawtooth', 'diffusers'))).toEqual([0.01, 0.01, 3, 3, 2, 1].map(Math.fround));
    expect(() => contextWeights(5, 'delayed_reverse_sawtooth', 'diffusers')).toThrow(/odd context length/);
    expect(Array.from(contextWeights(5, 'pyramid', 'studio'))).toEqual([1, 2, 3, 2, 1]);
  });

  it('a clip no longer than one window is the plain motion module in the studio; diffusers mode refuses fewer frames than the length', () => {
    expect(windowFusionPlan(16, { length: 16, stride: 4, weighting: 'pyramid', mode: 'studio' })).toBeUndefined();
    expect(windowFusionPlan(8, { length: 16, stride: 4, weighting: 'pyramid', mode: 'studio' })).toBeUndefined();
    expect(() => checkContextWindows({ length: 16, stride: 4, weighting: 'flat', mode: 'diffusers' }, 8, 16)).toThrow(/fewer than the context length/);
  });

  it('bad settings are clear errors; a length above the trained length is a warning', () => {
    const err = (s: Partial<ContextWindowSpec>): unknown => {
      try {
        checkContextWindows({ length: 16, stride: 4, weighting: 'flat', mode: 'studio', ...s }, 64, 16);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(err({ stride: 16 })).toBeInstanceOf(StudioError);
    expect(String(err({ stride: 16 }))).toMatch(/must be below the context length/);
    expect(String(err({ stride: 20 }))).toMatch(/no window covers/);
    expect(String(err({ length: 0 }))).toMatch(/at least 1/);
    expect(err({ stride: 20, mode: 'diffusers' })).toBeUndefined();
    expect(checkContextWindows({ length: 24, stride: 4, weighting: 'flat', mode: 'studio' }, 64, 16)).toEqual([expect.stringMatching(/above the 16 frames this motion module was trained on/)]);
    expect(checkContextWindows({ length: 16, stride: 4, weighting: 'flat', mode: 'studio' }, 64, 16)).toEqual([]);
  });

  it('256 frames: cost grows linearly (windows ≈ F / stride, each frame in at most ⌈L/s⌉ windows)', () => {
    const plan = windowFusionPlan(256, { length: 16, stride: 4, weighting: 'pyramid', mode: 'studio' });
    expect(plan?.starts.length).toBe(61);
    expect(plan?.slots.length).toBe(4);
  });
});
