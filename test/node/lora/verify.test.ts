import { describe, expect, it } from 'vitest';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';
import { REF } from './fixtures';

/** `verify --kind lora` over the reference folder: merged weights and forward passes of every run pass. */
describe('verify kind lora', () => {
  it('passes every comparison of every lora case', async () => {
    const r = await runVerify(REF, { kinds: ['lora'] });
    expect(r.failures).toEqual([]);
    expect(r.cases.length).toBe(7);
    expect(r.comparisons.length).toBe(51);
    expect(r.comparisons.filter((c) => !c.pass)).toEqual([]);
    expect(r.comparisons.filter((c) => c.what.includes('merged weights')).length).toBe(17);
    expect(r.comparisons.filter((c) => c.what.includes('noise_pred')).length).toBe(26);
    expect(verifyPassed(r)).toBe(true);
  });
});
