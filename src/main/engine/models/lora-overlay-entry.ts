import { renameSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CacheKey, CompileCache } from '../../compiler/cache';
import { compileGraphs, readIndex } from '../../compiler/compile';
import type { GraphIR } from '../../compiler/graph/builder';
import { emitGraphFile, overlayIndex, type WeightIndex, type WeightLocation } from '../../compiler/graph/emit';
import type { GemmMerger } from '../lora/gemm-merger';
import type { MergedWeights } from '../lora/merged-weights';
import { writeLoraOverlay, type OverlayTiming } from '../lora/overlay';

/**
 * The merged path of run-time LoRA switching, inside the compile cache: the part of a stack that slots cannot
 * carry (LoHa, LoKr, full diffs, convolutions, rank above R) is merged into ONLY the tensors it touches, written
 * as `lora-<key>.bin` + `lora-<key>.index.json` in the component's BASE entry (listed in its manifest, so the
 * cache validates them), and each shape gets a small `<graph>_lora-<key>.onnx` whose untouched initializers point
 * at the base `weights.bin`. The base weights file is never rewritten and base tensors are read only where the
 * stack touches them. `key` identifies the merged part alone (RuntimeStackPlan.mergedKey), so the overlay is
 * reused by every shape and by any stack with the same merged part.
 */
export interface MergedOverlayRequest {
  cache: CompileCache;
  /** The component's base entry (the one the plain graphs use). */
  baseKey: CacheKey;
  mergedKey: string;
  /** Graph name of the merged graph for this shape (`…_lora-<key>`). */
  name: string;
  /** This shape's graph over the base weights (builds the base entry on a miss). */
  buildBase: () => GraphIR;
  /** This shape's graph over `merged` (same slots). */
  buildMerged: () => GraphIR;
  merged: MergedWeights;
  gemm?: GemmMerger;
  signal?: AbortSignal;
}

export interface MergedOverlayResult {
  path: string;
  /** False when this call wrote the overlay (timing then says how long). */
  reused: boolean;
  timing?: OverlayTiming;
}

export async function compileMergedOverlay(req: MergedOverlayRequest): Promise<MergedOverlayResult> {
  const { cache } = req;
  const { entry } = await compileGraphs(cache, req.baseKey, () => [req.buildBase()]);
  const dir = entry.dir;
  const bin = `lora-${req.mergedKey}.bin`;
  const json = `lora-${req.mergedKey}.index.json`;
  let graph: GraphIR | undefined;
  let timing: OverlayTiming | undefined;
  let ov: WeightIndex;
  if (entry.manifest.files[bin] && entry.manifest.files[json]) {
    ov = new Map(Object.entries(JSON.parse(readFileSync(join(dir, json), 'utf8')) as Record<string, WeightLocation>));
  } else {
    graph = req.buildMerged();
    const res = await writeLoraOverlay({ graphs: [graph], merged: req.merged, dir, file: bin, gemm: req.gemm, signal: req.signal });
    ov = res.index;
    timing = res.timing;
    // List the file in the manifest: getOrAddFile moves what `write` leaves at tmp into place.
    await cache.getOrAddFile(entry, bin, (tmp) => renameSync(join(dir, bin), tmp));
    await cache.getOrAddFile(entry, json, (tmp) => writeFileSync(tmp, JSON.stringify(Object.fromEntries(ov))));
  }
  const index = overlayIndex(readIndex(dir), ov);
  const { path, reused } = await cache.getOrAddFile(entry, `${req.name}.onnx`, (tmp) => {
    emitGraphFile(graph ?? req.buildMerged(), index, { dir, modelFile: basename(tmp) });
  });
  return { path, reused: reused && timing === undefined, timing };
}
