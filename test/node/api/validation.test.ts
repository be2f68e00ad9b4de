import { describe, expect, it } from 'vitest';
import { API_METHODS } from '../../../src/shared/api';
import { API_VALIDATORS, validateArgs } from '../../../src/shared/api-validation';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import { refusal as rejection } from '../refusal';

describe('API argument validation', () => {
  it('has validators for every method of the contract', () => {
    expect(Object.keys(API_VALIDATORS).sort()).toEqual([...API_METHODS].sort());
  });

  it('accepts the default generation parameters and returns them unchanged', () => {
    const params = { ...DEFAULT_PARAMS, prompt: 'a fox running through snow', seed: 1234 };
    expect(validateArgs('generate', [params])).toEqual([params]);
  });

  it('names the failing field of a nested payload', () => {
    const e = rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, loras: [{ path: '/x.safetensors', weight: 'strong' }] }]));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.details).toMatchObject({ path: 'generate#0.loras[0].weight' });
  });

  it('carries embeddings and a VAE override in the generation parameters', () => {
    const params = { ...DEFAULT_PARAMS, prompt: 'EasyNegative', embeddings: [{ path: '/m/EasyNegative.safetensors' }, { path: '/m/charturnerv2.pt', name: 'charturnerv2', vectors: 3 }], vae: '/m/vae-ft-mse-840000-ema-pruned.safetensors' };
    expect(validateArgs('generate', [params])).toEqual([params]);
    const e = rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, embeddings: [{ path: '' }] }]));
    expect(e.details).toMatchObject({ path: 'generate#0.embeddings[0].path' });
    expect(rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, vae: 42 }])).details).toMatchObject({ path: 'generate#0.vae' });
    expect(rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, embeddings: [{ path: '/x.pt', vectors: 0 }] }])).code).toBe('BAD_REQUEST');
  });

  it("says what is wrong in a creator's words, the path kept in details", () => {
    const width = rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, width: 3000 }]));
    expect(width.message).toBe('Width must be a whole number from 64 to 2048, not 3000.');
    expect(width.details).toMatchObject({ path: 'generate#0.width' });
    expect(rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, width: 500 }])).message).toBe('Width must be a multiple of 8, not 500.');
    const weight = rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, loras: [{ path: '/x.safetensors', weight: 'strong' }] }]));
    expect(weight.message).toBe(`LoRA 1's weight must be a number from -10 to 10, not "strong".`);
    expect(weight.message).not.toMatch(/generate#|got number/);
  });

  it.each([
    ['non-integer seed', { seed: 1.5 }],
    ['seed beyond 2^53', { seed: 2 ** 53 }],
    ['width not a multiple of 8', { width: 500 }],
    ['zero steps', { steps: 0 }],
    ['NaN guidance', { guidance: Number.NaN }],
    ['unknown provider', { providers: ['tpu'] }],
    ['unknown field', { shell: 'rm -rf /' }],
  ])('refuses generation parameters with %s', (_name, patch) => {
    expect(rejection(() => validateArgs('generate', [{ ...DEFAULT_PARAMS, ...patch }])).code).toBe('BAD_REQUEST');
  });

  it('refuses objects that are not plain data', () => {
    const withProto = Object.create({ inherited: true }) as Record<string, unknown>;
    expect(rejection(() => validateArgs('listLoras', [withProto])).code).toBe('BAD_REQUEST');
    expect(rejection(() => validateArgs('listLoras', [[]])).code).toBe('BAD_REQUEST');
  });

  it('checks argument count and optional trailing arguments', () => {
    expect(validateArgs('listLoras', [])).toEqual([]);
    expect(validateArgs('listLoras', [{ favourite: true }])).toEqual([{ favourite: true }]);
    expect(rejection(() => validateArgs('getEngineInfo', [1])).message).toMatch(/at most 0/);
    expect(rejection(() => validateArgs('setFavourite', [3])).details).toMatchObject({ path: 'setFavourite#1' });
    expect(rejection(() => validateArgs('getGeneration', 'not-a-list' as unknown as unknown[])).code).toBe('BAD_REQUEST');
  });

  it('accepts ids only as positive safe integers', () => {
    expect(validateArgs('getGeneration', [7])).toEqual([7]);
    for (const bad of [0, -1, 1.5, '7', Number.MAX_SAFE_INTEGER + 1]) expect(rejection(() => validateArgs('getGeneration', [bad])).code).toBe('BAD_REQUEST');
  });

  it('validates filters, patches and export options', () => {
    expect(validateArgs('listGenerations', [{ text: 'fox', status: ['done', 'failed'], limit: 20 }])).toEqual([{ text: 'fox', status: ['done', 'failed'], limit: 20 }]);
    expect(rejection(() => validateArgs('listGenerations', [{ from: 'yesterday' }])).code).toBe('BAD_REQUEST');
    expect(validateArgs('updateItem', [3, { preview: null, tags: ['anime'] }])).toEqual([3, { preview: null, tags: ['anime'] }]);
    expect(rejection(() => validateArgs('exportClip', [1, { format: 'avi' }])).code).toBe('BAD_REQUEST');
    expect(validateArgs('exportTimeline', [2, { format: 'gif', name: 'story', overwrite: true }])).toEqual([2, { format: 'gif', name: 'story', overwrite: true }]);
    expect(rejection(() => validateArgs('exportClip', [1, { format: 'mp4', overwrite: 'yes' }])).code).toBe('BAD_REQUEST');
    expect(rejection(() => validateArgs('exportClip', [1, { format: 'mp4', name: '' }])).code).toBe('BAD_REQUEST');
    expect(validateArgs('trimClip', [1, 0, 16])).toEqual([1, 0, 16]);
  });

  it('bounds strings so a page cannot send unbounded text', () => {
    expect(rejection(() => validateArgs('createTimeline', ['x'.repeat(201)])).code).toBe('BAD_REQUEST');
    expect(rejection(() => validateArgs('createTimeline', [''])).code).toBe('BAD_REQUEST');
  });
});
