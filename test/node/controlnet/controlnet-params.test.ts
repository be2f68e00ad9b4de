import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generationParams } from '../../../src/shared/api-validation';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { checkWeightPaths, weightPaths } from '../../../src/main/services/weight-paths';

/** ControlNet units through the API's request validation and the pre-enqueue file checks. */

const dir = mkdtempSync(join(tmpdir(), 'controlnet-params-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cn = join(__dirname, '../../fixtures/reference/controlnet/controlnet.safetensors');
const img = join(dir, 'edges.png');
writeFileSync(img, 'x');
const unit = { model: cn, control: img, scale: 0.8, start: 0, end: 0.75, preprocess: 'canny' as const };
const params = (units: unknown[]): GenerationParams => ({ ...DEFAULT_PARAMS, prompt: 'p', controlNets: units } as GenerationParams);

describe('ControlNet units in generation parameters', () => {
  it('the API accepts units and refuses unknown fields, bad preprocessors and out-of-range windows', () => {
    expect(generationParams(params([unit]), 'params').controlNets).toEqual([unit]);
    expect(generationParams({ ...DEFAULT_PARAMS, prompt: 'p' }, 'params').controlNets).toBeUndefined();
    expect(() => generationParams(params([{ ...unit, preprocess: 'depth' }]), 'params')).toThrow(/preprocess/);
    expect(() => generationParams(params([{ ...unit, end: 2 }]), 'params')).toThrow(/end/);
    expect(() => generationParams(params([{ ...unit, weight: 1 }]), 'params')).toThrow(/unknown field "weight"/);
  });

  it('the ControlNet file passes the sniffer with its role; a missing input or a non-model file is refused; disabled units are skipped', () => {
    expect(weightPaths(params([unit, { ...unit, enabled: false }]))).toEqual([{ role: 'ControlNet 1', path: cn }]);
    expect(() => checkWeightPaths(params([unit]))).not.toThrow();
    expect(() => checkWeightPaths(params([{ ...unit, control: join(dir, 'missing.mp4') }]))).toThrow(/ControlNet 1 conditioning input .*missing\.mp4 does not exist/);
    expect(() => checkWeightPaths(params([{ ...unit, model: img }]))).toThrow(/^The ControlNet 1: /);
    expect(() => checkWeightPaths(params([{ ...unit, model: img, enabled: false }]))).not.toThrow();
  });
});
