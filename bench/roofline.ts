import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../src/main/compiler/graph/builder';
import { emitModel } from '../src/main/compiler/graph/emit';
import { MemoryWeights } from '../src/main/compiler/io/tensor';
import { createSession, f32Tensor } from '../src/main/engine/runtime/session';
import { noiseArray } from './model-set';
import { median } from './report';

/**
 * This machine's achievable fp32 matrix-multiply rate through onnxruntime: the ceiling a UNet call is held
 * against. A chain of large square MatMuls ([M,K]·[K,K], weights as initializers, the same session options
 * as the engine's sessions) is as close to peak as onnxruntime's CPU GEMM gets; anything a UNet does (convs
 * as implicit GEMMs, attention, normalisation, layout changes) can only be slower per multiply-add.
 */

export interface MatMulRate {
  /** GMAC/s of each timed run. */
  gmacPerS: number[];
  median: number;
  max: number;
  macsPerRun: number;
  shape: string;
}

/** `rows` × `size` activations through `chain` [size×size] weights (rows defaults to size: square products). */
export async function measureMatMulRate(opts: { runs: number; size?: number; chain?: number; rows?: number }): Promise<MatMulRate> {
  const size = opts.size ?? 2048;
  const chain = opts.chain ?? 4;
  const rows = opts.rows ?? size;
  const dir = mkdtempSync(join(tmpdir(), 'bench-matmul-'));
  try {
    const w = new MemoryWeights();
    const g = new GraphBuilder('matmul_roofline');
    let x = g.input('x', 'float32', [rows, size]);
    const scale = 1 / Math.sqrt(size); // keeps values O(1) along the chain (no denormals or overflow)
    for (let i = 0; i < chain; i++) {
      w.set(`w${i}`, [size, size], () => noiseArray(size * size, 17 + i).map((v) => v * scale));
      x = g.op('MatMul', [x, g.weight(w.get(`w${i}`)!)], {}, { name: `mm${i}` });
    }
    g.output(x, 'y', 'float32', [rows, size]);
    const { modelPath } = emitModel(g.build(), { dir, modelFile: 'matmul.onnx' });
    const s = await createSession(modelPath, { providers: ['cpu'] });
    try {
      const feeds = { x: f32Tensor(noiseArray(rows * size, 5), [rows, size]) };
      await s.run(feeds); // warm-up: first run allocates and packs weights
      const macs = chain * rows * size * size;
      const rates: number[] = [];
      for (let r = 0; r < Math.max(1, opts.runs); r++) {
        const t0 = performance.now();
        await s.run(feeds);
        rates.push(macs / ((performance.now() - t0) / 1000) / 1e9);
      }
      return { gmacPerS: rates, median: median(rates), max: Math.max(...rates), macsPerRun: macs, shape: `${chain} × [${rows}×${size}]·[${size}×${size}]` };
    } finally {
      await s.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
