import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { LCMScheduler, DIFFUSERS_LCM_DEFAULTS, torchLinspaceF32 } from '../../../src/main/engine/schedulers/lcm';
import { schedulerLcmHandler } from '../../../src/main/verify/kinds/scheduler-lcm';
import { casesOfKind, runHandler } from './verify-helpers';

const ROOT = fileURLToPath(new URL('../../fixtures/reference', import.meta.url));

describe('LCMScheduler against the scheduler_lcm fixtures (verify handler)', () => {
  const cases = casesOfKind(ROOT, 'scheduler_lcm');

  it('finds variant and trajectory cases by kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4 + 4 * 3);
  });

  it.each(cases.map((c) => [c.slice(ROOT.length + 1)]))('%s matches to 1e-6', async (rel) => {
    const results = await runHandler(schedulerLcmHandler, ROOT, `${ROOT}/${rel}`);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.pass, `${r.what} max_abs=${r.maxAbs}`).toBe(true);
      expect(r.maxAbs).toBeLessThanOrEqual(1e-6 * Math.max(1, 200));
    }
    // Everything replayed in torch's float32 order: bit-identical.
    expect(Math.max(...results.map((r) => r.maxAbs))).toBe(0);
  });
});

describe('LCMScheduler schedule', () => {
  it('picks the timesteps the brief computes for 50 and 100 original steps', () => {
    const s50 = new LCMScheduler({ original_inference_steps: 50 });
    s50.setTimesteps(6);
    expect(s50.timesteps).toEqual([999, 839, 679, 499, 339, 179]);
    const s100 = new LCMScheduler();
    expect(s100.config.original_inference_steps).toBe(100);
    s100.setTimesteps(6);
    expect(s100.timesteps).toEqual([999, 839, 669, 499, 339, 169]);
    s100.setTimesteps(8, { originalInferenceSteps: 50 });
    expect(s100.timesteps).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
  });

  it('diffusers defaults differ from the product defaults only where documented', () => {
    expect(DIFFUSERS_LCM_DEFAULTS.original_inference_steps).toBe(50);
    expect(LCMScheduler.defaults.beta_schedule).toBe('linear');
    expect(LCMScheduler.fromDiffusersConfig({ beta_schedule: 'linear' }).config.original_inference_steps).toBe(50);
  });

  it('strength shortens the distillation schedule', () => {
    const s = new LCMScheduler({ original_inference_steps: 50 });
    s.setTimesteps(4, { strength: 0.5 });
    // 25 origin steps (39..999 by 20 → 19..499), reversed, every 25/4-th
    expect(s.timesteps).toEqual([499, 379, 259, 139]);
  });

  it('refuses more steps than the schedule holds, with an actionable error', () => {
    const s = new LCMScheduler({ original_inference_steps: 4 });
    expect(() => s.setTimesteps(5)).toThrow(/at most 4 steps/);
  });

  it('the last step returns denoised and needs no noise', () => {
    const s = new LCMScheduler();
    s.setTimesteps(2);
    const x = new Float32Array([0.5, -1]);
    const eps = new Float32Array([0.1, 0.2]);
    expect(() => s.step(eps, 0, x)).toThrow(/needs fresh noise/);
    const last = s.step(eps, 1, x);
    expect(Array.from(last.prevSample)).toEqual(Array.from(last.denoised));
    expect(s.needsNoise(0)).toBe(true);
    expect(s.needsNoise(1)).toBe(false);
  });

  it('linspace emulation is symmetric at both ends', () => {
    const b = torchLinspaceF32(0.00085, 0.012, 1000);
    expect(b[0]).toBe(Math.fround(0.00085));
    expect(b[999]).toBe(Math.fround(0.012));
  });
});
