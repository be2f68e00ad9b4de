import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../compiler/graph/builder';
import { emitModel } from '../../compiler/graph/emit';
import { createSession, f32Tensor, type EngineSession } from '../runtime/session';

/**
 * W' = W + U·D computed by onnxruntime's GEMM instead of JS loops. A full-size SD1.5 stack touches ~270 M weight
 * elements; at rank 128 that is ~35 G multiply-adds, minutes in scalar JS but about a second in MLAS on two
 * cores. One tiny graph with symbolic dims serves every tensor shape; the transposed variant writes Wᵀ directly
 * in the layout the UNet graph stores Linear weights in, so nothing is transposed in JS.
 */
export class GemmMerger {
  private sessions = new Map<string, Promise<EngineSession>>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'lora-gemm-'));

  constructor(private readonly opts: { intraOpThreads?: number } = {}) {}

  private session(transpose: boolean): Promise<EngineSession> {
    const key = transpose ? 'T' : 'N';
    let s = this.sessions.get(key);
    if (!s) {
      const g = new GraphBuilder(`lora_merge_${key}`, 'float32');
      const W = g.input('W', 'float32', ['M', 'N']);
      const U = g.input('U', 'float32', ['M', 'R']);
      const D = g.input('D', 'float32', ['R', 'N']);
      let y = g.op('Add', [W, g.op('MatMul', [U, D])]);
      if (transpose) y = g.op('Transpose', [y], { perm: { kind: 'ints', value: [1, 0] } });
      g.output(y, 'merged', 'float32', transpose ? ['N', 'M'] : ['M', 'N']);
      const { modelPath } = emitModel(g.build(), { dir: this.dir, modelFile: `merge_${key}.onnx`, weightsFile: `merge_${key}.bin` });
      s = createSession(modelPath, { providers: ['cpu'], intraOpThreads: this.opts.intraOpThreads });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** W [m, n] + U [m, r] · D [r, n], optionally returned transposed ([n, m]). */
  async merge(w: Float32Array, u: Float32Array, d: Float32Array, m: number, n: number, r: number, transpose: boolean): Promise<Float32Array> {
    const s = await this.session(transpose);
    const out = await s.run({ W: f32Tensor(w, [m, n]), U: f32Tensor(u, [m, r]), D: f32Tensor(d, [r, n]) });
    return out.merged.data as Float32Array;
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).dispose();
    this.sessions.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
