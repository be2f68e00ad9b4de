import { open } from 'node:fs/promises';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphIR } from '../../compiler/graph/builder';
import { alignUp, collectWeights, EXTERNAL_ALIGN, tempName, weightEncoder, type WeightIndex, type WeightItem } from '../../compiler/graph/emit';
import type { GemmMerger } from './gemm-merger';
import { numel } from '../../compiler/io/tensor';
import { transpose } from './linalg';
import { mergeOne, type MergedWeights } from './merged-weights';

/**
 * Mechanism (i): an overlay weights file holding only the tensors a LoRA stack changes, in the exact layout
 * the compiled graph stores them (transposed Linear weights included), at the same 64 KiB alignment as the
 * base file so onnxruntime mmaps it. `overlayIndex(baseIndex, result)` + `emitGraphFile` then give a small
 * .onnx that reads untouched tensors from the base weights file and touched ones from here; the base file is
 * never rewritten. Written as a stream, one tensor in memory at a time, with awaits between tensors so the
 * engine's event loop keeps answering (progress, cancel) while it runs.
 */
export interface OverlayTiming {
  tensors: number;
  bytes: number;
  mergeMs: number;
  writeMs: number;
}

export async function writeLoraOverlay(opts: {
  graphs: readonly GraphIR[];
  merged: MergedWeights;
  dir: string;
  file: string;
  /** Optional onnxruntime GEMM for pure low-rank contributions (much faster than JS at full size). */
  gemm?: GemmMerger;
  signal?: AbortSignal;
}): Promise<{ index: WeightIndex; timing: OverlayTiming }> {
  const touched = new Set(opts.merged.touched());
  const items = collectWeights(opts.graphs).filter((it) => touched.has(it.view.name));
  const floatType = opts.graphs[0]?.floatType ?? 'float32';
  const finalPath = join(opts.dir, opts.file);
  const tmp = tempName(finalPath);
  const fh = await open(tmp, 'w');
  const index: WeightIndex = new Map();
  const timing: OverlayTiming = { tensors: 0, bytes: 0, mergeMs: 0, writeMs: 0 };
  try {
    let offset = 0;
    const encode = weightEncoder(floatType);
    // An int8 weight's values and scales are two items in a row (collectWeights' order): merged once for both.
    let previous: { item: WeightItem; data: Float32Array } | undefined;
    for (const item of items) {
      opts.signal?.throwIfAborted();
      const t0 = performance.now();
      const again = previous !== undefined && previous.item.view === item.view && previous.item.transpose === item.transpose;
      const data = again && previous ? previous.data : await mergedData(opts.merged, item.view.name, item.transpose, opts.gemm);
      previous = item.encoding ? { item, data } : undefined;
      // The graph's layout and encoding (the int8 plan stores merged weights quantised, like base ones).
      const { bytes, elemType, numel: count } = encode(item, data);
      const t1 = performance.now();
      await fh.write(bytes, 0, bytes.byteLength, offset);
      timing.writeMs += performance.now() - t1;
      timing.mergeMs += t1 - t0;
      index.set(item.key, { file: opts.file, offset, length: bytes.byteLength, elemType, numel: count });
      timing.tensors++;
      timing.bytes += bytes.byteLength;
      offset = alignUp(offset + bytes.byteLength, EXTERNAL_ALIGN);
    }
    await fh.close();
    await rename(tmp, finalPath);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  return { index, timing };
}

/** Merged values of one weight in stored (optionally transposed 2-D) layout. */
async function mergedData(merged: MergedWeights, name: string, transposed: boolean, gemm: GemmMerger | undefined): Promise<Float32Array> {
  const base = merged.base.get(name);
  const list = merged.contributions.get(name);
  if (!base || !list) throw new Error(`overlay: ${name} is not touched`);
  const rows = base.shape[0];
  const cols = numel(base.shape) / rows;
  const allLowRank = list.every((c) => c.delta.factors !== undefined);
  if (gemm && allLowRank && (!transposed || base.shape.length === 2)) {
    // Concatenate the stack along the rank: U = [m₁s₁U₁ | m₂s₂U₂ …] [rows, ΣR], D = [D₁; D₂; …] [ΣR, cols].
    const fs = list.map((c) => ({ f: c.delta.factors!(), s: c.multiplier * c.delta.scale }));
    const R = fs.reduce((a, x) => a + x.f.rank, 0);
    const U = new Float32Array(rows * R);
    const D = new Float32Array(R * cols);
    let at = 0;
    for (const { f, s } of fs) {
      for (let o = 0; o < rows; o++) for (let k = 0; k < f.rank; k++) U[o * R + at + k] = s * f.up[o * f.rank + k];
      D.set(f.down, at * cols);
      at += f.rank;
    }
    return gemm.merge(base.readF32(), U, D, rows, cols, R, transposed);
  }
  const out = mergeOne(base, list);
  return transposed ? transpose(out, rows, cols) : out;
}
