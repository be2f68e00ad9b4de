import { readFileSync } from 'node:fs';
import type { DType, TensorTable, TensorView } from '../../../src/main/compiler/io/tensor';

/** The full-size manifests (every key and shape of the real models) as tensor tables without data. */
export interface Manifest {
  config: Record<string, unknown>;
  diffusers: Record<string, { shape: number[]; dtype: string }>;
  ldm?: Record<string, { shape: number[]; dtype: string }>;
  animatediff_original?: Record<string, { shape: number[]; dtype: string }>;
}

const DTYPES: Record<string, DType> = { float32: 'F32', float16: 'F16', int64: 'I64', bfloat16: 'BF16' };

export function loadManifest(name: string): Manifest {
  return JSON.parse(readFileSync(`test/fixtures/manifests/${name}.json`, 'utf8')) as Manifest;
}

export function shapeTable(keys: Record<string, { shape: number[]; dtype?: string }>, metadata: Record<string, string> = {}): TensorTable {
  const views = new Map<string, TensorView>();
  for (const [name, k] of Object.entries(keys)) {
    const fail = (): never => {
      throw new Error(`${name}: a manifest table has shapes only`);
    };
    views.set(name, { name, dtype: DTYPES[k.dtype ?? 'float32'] ?? 'F32', shape: k.shape, readF32: fail, readRaw: fail });
  }
  return { container: 'memory', path: '<manifest>', metadata, names: () => [...views.keys()], get: (n) => views.get(n), close: () => {} };
}

/** Merge several key maps, optionally renaming keys. */
export function merge(...maps: Array<Record<string, { shape: number[]; dtype?: string }>>): Record<string, { shape: number[]; dtype?: string }> {
  return Object.assign({}, ...maps) as Record<string, { shape: number[]; dtype?: string }>;
}

export function rename(map: Record<string, { shape: number[]; dtype?: string }>, f: (k: string) => string | undefined): Record<string, { shape: number[]; dtype?: string }> {
  const out: Record<string, { shape: number[]; dtype?: string }> = {};
  for (const [k, v] of Object.entries(map)) {
    const n = f(k);
    if (n !== undefined) out[n] = v;
  }
  return out;
}
