/**
 * Minimal reproduction, for onnxruntime's tracker, of com.microsoft MultiHeadAttention giving wrong results on
 * the WebGPU execution provider when the adapter's subgroup size is 4 (SwiftShader). Writes
 * bench/gpu/mha-subgroup-defect.onnx (one MHA node, q [1, S, 8], k/v [1, T, 8], 1 head) and runs it on CPU and
 * WebGPU for a few (S, T), printing max |WebGPU − CPU|. See mha-subgroup-defect.md.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx bench/gpu/mha-subgroup-defect.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../../src/main/compiler/graph/builder';
import { encodeModel } from '../../src/main/compiler/graph/emit';

const D = 8;

function model(): Uint8Array {
  const g = new GraphBuilder('mha_subgroup_defect');
  const q = g.input('q', 'float32', [1, 'S', D]);
  const k = g.input('k', 'float32', [1, 'T', D]);
  const v = g.input('v', 'float32', [1, 'T', D]);
  g.output(g.op('MultiHeadAttention', [q, k, v], { num_heads: attr.int(1) }, { name: 'mha', domain: 'com.microsoft' }), 'y', 'float32', [1, 'S', D]);
  return encodeModel(g.build(), new Map());
}

function values(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = (s / 2147483648 - 0.5) * 4;
  }
  return a;
}

const bytes = model();
const path = join(import.meta.dirname, 'mha-subgroup-defect.onnx');
writeFileSync(path, bytes);
console.log(`wrote ${path} (${bytes.length} bytes); VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}`);
const cpu = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
const gpu = await ort.InferenceSession.create(path, { executionProviders: ['webgpu'] });
for (const [S, T] of [[16, 64], [28, 28], [32, 4], [32, 5], [32, 8], [64, 64]]) {
  const feeds = {
    q: new ort.Tensor('float32', values(S * D, 1), [1, S, D]),
    k: new ort.Tensor('float32', values(T * D, 2), [1, T, D]),
    v: new ort.Tensor('float32', values(T * D, 3), [1, T, D]),
  };
  const a = (await cpu.run(feeds)).y.data as Float32Array;
  const b = (await gpu.run(feeds)).y.data as Float32Array;
  const err = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
  console.log(`S=${S} T=${T}: max |webgpu - cpu| = ${err.toExponential(2)}${err > 1e-4 ? '  WRONG' : ''}`);
}
