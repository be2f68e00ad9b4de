import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import type { GenerationMeta } from '../../../src/shared/domain/history';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, '..', '..', 'fixtures', 'reference');
export const LORA_KOHYA = join(FIXTURES, 'lora', 'lora_kohya.safetensors');
export const LORA_LOHA = join(FIXTURES, 'lora_loha', 'lora_loha.safetensors');
export const MOTION_MODULE = join(FIXTURES, 'unet_motion', 'motion_module_animatediff.safetensors');

/** A fresh temporary data folder; call the returned cleanup in afterEach. */
export function tempDataDir(prefix = 'store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `alcs-${prefix}`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function params(over: Partial<GenerationParams> = {}): GenerationParams {
  return structuredClone({ ...DEFAULT_PARAMS, prompt: 'a red fox running through snow', negativePrompt: 'blurry', seed: 42, ...over });
}

export const META: GenerationMeta = { noise: { name: 'torch-cpu-randn', version: '1' }, engineVersion: '0.1.0-test' };
