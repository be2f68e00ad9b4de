import { MemoryWeights } from '../../../src/main/compiler/io/tensor';

/** Seeded uniform(-scale, scale) values (LCG): reproducible random weights without a dependency. */
export function rand(n: number, seed: number, scale = 0.5): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/** Fills `w` with random tensors of the given shapes; norm weights centred on 1 so activations stay O(1). */
export function randomWeights(shapes: Record<string, number[]>, seed = 1): MemoryWeights {
  const w = new MemoryWeights();
  let k = seed;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const isNormWeight = /norm[^.]*\.weight$|layer_norm\d?\.weight$/.test(name) && shape.length === 1;
    const data = rand(n, k++, isNormWeight ? 0.2 : shape.length >= 2 ? 1 / Math.sqrt(fanIn) : 0.2);
    if (isNormWeight) for (let i = 0; i < n; i++) data[i] += 1;
    w.set(name, shape, data);
  }
  return w;
}
