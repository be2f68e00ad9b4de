import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';

const REFERENCE = join(__dirname, '../../fixtures/reference');

/** The three FreeNoise kinds, picked up by kind from the reference folder (diffusers @58eb52c ground truth). */
describe('verify: FreeNoise kinds', () => {
  it('randperm, freenoise_components and pipeline_animatediff_lcm_freenoise all pass', async () => {
    const lines: string[] = [];
    const r = await runVerify(REFERENCE, { log: (l) => lines.push(l), kinds: ['randperm', 'freenoise_components', 'pipeline_animatediff_lcm_freenoise'] });
    expect(r.failures).toEqual([]);
    expect(r.comparisons.filter((c) => !c.pass), lines.join('\n')).toEqual([]);
    expect(r.cases.length).toBe(4);
    const count = (re: RegExp): number => r.comparisons.filter((c) => re.test(c.what)).length;
    // 18 table entries + 17 interleaved ops; 6 latent cases, 8 block cases, 2 UNet cases; both pipelines' frames.
    expect(count(/^randperm seed /)).toBe(18);
    expect(count(/^interleave op/)).toBe(17);
    expect(count(/^latents\d/)).toBe(6);
    expect(count(/^block\d/)).toBe(8);
    expect(count(/^unet\d/)).toBe(2);
    expect(count(/^frames$/)).toBe(2);
    expect(count(/^initial_latents/)).toBe(2);
    expect(verifyPassed(r)).toBe(true);
  });
});
