import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { GraphIR } from '../../compiler/graph/builder';
import { emitGraphFile, overlayIndex, type WeightIndex } from '../../compiler/graph/emit';
import type { TensorTable } from '../../compiler/io/tensor';
import type { GemmMerger } from './gemm-merger';
import { writeLoraOverlay, type OverlayTiming } from './overlay';
import { applyLoraStack, type BaseComponents, type LoraReport, type LoraStackEntry } from './stack';
import type { LoraComponent } from './types';

/**
 * Run-time switching on a loaded model, merged path: the compiled base graph + its weight index stay as they
 * are; a stack change writes one overlay file per component with only the touched tensors and a small .onnx
 * pointing at base + overlay, which a new onnxruntime session opens by path (external data mmapped). Results
 * are cached by stack identity (file path, size, mtime, weight), so toggling back to a previous stack costs one
 * session creation only. The caller (the engine worker) owns sessions: this returns model paths.
 */
export interface CompiledComponent {
  graph: GraphIR;
  /** Where every base weight of `graph` is (from emitWeights / the compile cache). */
  baseIndex: WeightIndex;
  /** Folder of the graph and its weight files; overlays are written next to them. */
  dir: string;
}

export interface PreparedStack {
  key: string;
  /** Model path per component; the base model path when the stack does not touch that component. */
  models: Partial<Record<LoraComponent, string>>;
  reports: LoraReport[];
  timing: { normalizeMs: number; overlay: Partial<Record<LoraComponent, OverlayTiming>>; emitMs: number };
}

export function stackKey(stack: readonly LoraStackEntry[]): string {
  const h = createHash('sha256');
  for (const e of stack) {
    if (typeof e.file === 'string') {
      const st = statSync(e.file);
      h.update(`${e.file}\0${st.size}\0${st.mtimeMs}\0${e.weight}\n`);
    } else h.update(`${(e.file as TensorTable).path}\0${e.weight}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

export class LoraSwitcher {
  private readonly cache = new Map<string, PreparedStack>();

  constructor(
    private readonly base: BaseComponents,
    private readonly compiled: Partial<Record<LoraComponent, CompiledComponent & { modelFile: string }>>,
    private readonly gemm?: GemmMerger,
  ) {}

  async prepare(stack: readonly LoraStackEntry[], opts: { signal?: AbortSignal } = {}): Promise<PreparedStack> {
    const key = stackKey(stack);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const t0 = performance.now();
    const applied = applyLoraStack(this.base, stack);
    const normalizeMs = performance.now() - t0;
    const models: PreparedStack['models'] = {};
    const overlay: PreparedStack['timing']['overlay'] = {};
    let emitMs = 0;
    for (const component of ['unet', 'text_encoder'] as const) {
      const c = this.compiled[component];
      const merged = applied[component];
      if (!c) continue;
      if (!merged || merged.touched().length === 0) {
        models[component] = `${c.dir}/${c.modelFile}`;
        continue;
      }
      const file = `${c.modelFile}.lora-${key}.bin`;
      const { index, timing } = await writeLoraOverlay({ graphs: [c.graph], merged, dir: c.dir, file, gemm: this.gemm, signal: opts.signal });
      overlay[component] = timing;
      const t1 = performance.now();
      models[component] = emitGraphFile(c.graph, overlayIndex(c.baseIndex, index), { dir: c.dir, modelFile: `${c.modelFile.replace(/\.onnx$/, '')}.lora-${key}.onnx` });
      emitMs += performance.now() - t1;
    }
    const prepared: PreparedStack = { key, models, reports: applied.reports, timing: { normalizeMs, overlay, emitMs } };
    this.cache.set(key, prepared);
    return prepared;
  }
}
