import { openModel } from '../../compiler/io/open';
import type { TensorTable, TensorView, WeightSet } from '../../compiler/io/tensor';
import { buildLoraKeyMap } from './keymap';
import { MergedWeights, type WeightedDelta } from './merged-weights';
import { normalizeLora, type NormalizedLora } from './normalize';
import type { LoraTargetComponent } from './types';

/**
 * A LoRA stack applied to a loaded model: W' = W + Σ mᵢ·ΔWᵢ in stack order (negative multipliers allowed),
 * returned as WeightSets that overlay merged tensors on the base. Base weights are never copied or re-read
 * until a merged tensor is asked for, and untouched tensors are the base's own views.
 */
export interface LoraStackEntry {
  /** A weight-file path (.safetensors or .ckpt, sniffed) or an already opened table (the caller keeps ownership of tables it passes). */
  file: string | TensorTable;
  weight: number;
  /** kohya low-rank modules: this scale instead of alpha/rank (AnimateLCM's I2V LoRA: 1/8). */
  fixedScale?: number;
}

export interface LoraReport {
  file: string;
  applied: number;
  total: number;
  unmatched: string[];
  /** "applied 264/264 keys", or the count plus the unmatched keys and why. */
  message: string;
}

export interface AppliedStack {
  unet?: MergedWeights;
  text_encoder?: MergedWeights;
  /** The motion modules (present when the base has them): MotionLoRAs land here. */
  motion?: MergedWeights;
  reports: LoraReport[];
  /** The normalised LoRAs, in stack order (the low-rank run-time path reads their factors). */
  normalized: Array<{ file: string; weight: number; lora: NormalizedLora }>;
}

export interface BaseComponents {
  unet?: WeightSet;
  text_encoder?: WeightSet;
  /** MotionAdapter-named motion modules; without them MotionLoRA keys are reported as not applied. */
  motion?: WeightSet;
}

/**
 * Tensors of a LoRA file held in memory, so the file can be closed right away (LoRAs are small). Callers that
 * switch stacks often (ModelSet) keep these tables and pass them back in, so a weight change re-reads nothing.
 */
export function loadIntoMemory(path: string): TensorTable {
  // Through the sniffer like every other weight file: a path that is not a model is refused before any parser runs. By content: MotionLoRAs ship as .ckpt.
  const t = openModel(path);
  try {
    const views = new Map<string, TensorView>();
    for (const n of t.names()) {
      const v = t.get(n);
      if (!v) continue;
      const data = v.readF32();
      views.set(n, { name: n, dtype: 'F32', shape: v.shape, readF32: () => data, readRaw: () => new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    }
    return { container: 'memory', path, metadata: t.metadata, names: () => [...views.keys()], get: (n) => views.get(n), close: () => undefined };
  } finally {
    t.close();
  }
}

const MAX_LISTED = 20;

export function coverageMessage(lora: NormalizedLora): string {
  const head = `applied ${lora.applied}/${lora.total} keys`;
  if (lora.unmatched.length === 0) return head;
  const why = [...lora.reasons.entries()].slice(0, MAX_LISTED).map(([m, r]) => (r.startsWith(m) ? r : `${m}: ${r}`));
  const more = lora.reasons.size > MAX_LISTED ? ` … and ${lora.reasons.size - MAX_LISTED} more` : '';
  return `${head}; not applied (${lora.unmatched.length} keys): ${why.join('; ')}${more}`;
}

export function applyLoraStack(base: BaseComponents, stack: readonly LoraStackEntry[]): AppliedStack {
  const keyMap = buildLoraKeyMap(base);
  const contributions: Record<LoraTargetComponent, Map<string, WeightedDelta[]>> = { unet: new Map(), text_encoder: new Map(), motion: new Map() };
  const reports: LoraReport[] = [];
  const normalized: AppliedStack['normalized'] = [];
  for (const entry of stack) {
    if (!Number.isFinite(entry.weight)) throw new Error(`LoRA weight must be a finite number, got ${entry.weight}`);
    const table = typeof entry.file === 'string' ? loadIntoMemory(entry.file) : entry.file;
    const lora = normalizeLora(table, base, keyMap, { fixedScale: entry.fixedScale });
    for (const delta of lora.deltas) {
      const map = contributions[delta.target.component];
      let list = map.get(delta.target.key);
      if (!list) map.set(delta.target.key, (list = []));
      list.push({ delta, multiplier: entry.weight });
    }
    reports.push({ file: table.path, applied: lora.applied, total: lora.total, unmatched: lora.unmatched, message: coverageMessage(lora) });
    normalized.push({ file: table.path, weight: entry.weight, lora });
  }
  return {
    unet: base.unet ? new MergedWeights(base.unet, contributions.unet) : undefined,
    text_encoder: base.text_encoder ? new MergedWeights(base.text_encoder, contributions.text_encoder) : undefined,
    motion: base.motion ? new MergedWeights(base.motion, contributions.motion) : undefined,
    reports,
    normalized,
  };
}
