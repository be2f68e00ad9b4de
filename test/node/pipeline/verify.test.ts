import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';

const REFERENCE = join(__dirname, '../../fixtures/reference');

describe('verify: pipeline_animatediff_lcm', () => {
  it('replays every pipeline case through our pipeline and compiled sessions within tolerance', async () => {
    const lines: string[] = [];
    const r = await runVerify(REFERENCE, { log: (l) => lines.push(l), kinds: ['pipeline_animatediff_lcm'] });
    // Both cases (across-frames diffusers default and AnimateLCM's per-frame GroupNorm) are picked up by kind.
    expect(r.cases.length).toBeGreaterThanOrEqual(2);
    expect(r.failures).toEqual([]);
    const failing = r.comparisons.filter((c) => !c.pass);
    expect(failing, lines.join('\n')).toEqual([]);
    // Every per-step tensor of every step, the decoded video and the frames were compared.
    const totalSteps = r.cases
      .map((c) => JSON.parse(readFileSync(join(REFERENCE, c, 'files.json'), 'utf8')) as { run: { steps: number } })
      .reduce((a, f) => a + f.run.steps, 0);
    for (const what of ['latents_in', 'latent_model_input', 'unet_output', 'noise_pred', 'denoised', 'latents']) {
      expect(r.comparisons.filter((c) => c.what.endsWith(` ${what}`)).length).toBe(totalSteps);
    }
    expect(r.comparisons.filter((c) => c.what === 'frames').length).toBe(r.cases.length);
    expect(r.comparisons.filter((c) => c.what === 'video_decoded_raw').length).toBe(r.cases.length);
    expect(verifyPassed(r)).toBe(true);
  });
});
