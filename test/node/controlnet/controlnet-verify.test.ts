import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';

const REF = join(__dirname, '../../fixtures/reference');
const root = mkdtempSync(join(tmpdir(), 'controlnet-verify-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('verify kind controlnet', () => {
  it('passes the residuals in both file layouts and the UNet outputs with and without them', async () => {
    const r = await runVerify(join(REF, 'controlnet'));
    expect(r.failures).toEqual([]);
    expect(verifyPassed(r)).toBe(true);
    const whats = r.comparisons.map((c) => c.what);
    for (const layout of ['diffusers', 'ldm']) {
      for (const k of [0, 1, 2, 3]) expect(whats).toContain(`${layout} down_block_res_sample_${k}`);
      expect(whats).toContain(`${layout} mid_block_res_sample`);
    }
    expect(whats).toContain('unet noise_pred_controlled');
    expect(whats).toContain('unet noise_pred_uncontrolled');
    for (const c of r.comparisons) expect(c.maxAbs).toBeLessThan(2e-5);
  });

  it('fails when the scale it applies is not the reference one (the residuals depend on it)', async () => {
    const dir = join(root, 'nested', 'case');
    cpSync(join(REF, 'controlnet'), dir, { recursive: true });
    cpSync(join(REF, 'unet2d'), join(root, 'nested', 'unet2d'), { recursive: true });
    const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'files.json'), JSON.stringify({ ...files, conditioning_scale: 0.8 }));
    const r = await runVerify(dir);
    expect(verifyPassed(r)).toBe(false);
    const failed = r.comparisons.filter((c) => !c.pass).map((c) => c.what);
    expect(failed).toContain('diffusers mid_block_res_sample');
    expect(failed).toContain('unet noise_pred_controlled');
    expect(failed).not.toContain('unet noise_pred_uncontrolled');
  });
});
