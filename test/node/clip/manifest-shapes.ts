import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TensorView, WeightSet } from '../../../src/main/compiler/io/tensor';

/**
 * The full-size key/shape manifests (SD1.5 UNet, VAE, CLIP-L) as a weight set with no data: reading throws,
 * so a graph built from it proves names and shapes without allocating gigabytes.
 */
export function manifestWeights(file: string): { weights: WeightSet; config: Record<string, unknown>; keys: string[] } {
  const m = JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/manifests/${file}`, import.meta.url)), 'utf8')) as {
    config: Record<string, unknown>;
    diffusers: Record<string, { shape: number[]; dtype: string }>;
  };
  const views = new Map<string, TensorView>();
  for (const [name, { shape }] of Object.entries(m.diffusers)) {
    views.set(name, {
      name,
      dtype: 'F32',
      shape,
      readF32: () => {
        throw new Error(`manifest weight ${name} has no data`);
      },
      readRaw: () => {
        throw new Error(`manifest weight ${name} has no data`);
      },
    });
  }
  return {
    weights: { names: () => [...views.keys()], get: (n) => views.get(n), has: (n) => views.has(n) },
    config: m.config,
    keys: [...views.keys()],
  };
}
