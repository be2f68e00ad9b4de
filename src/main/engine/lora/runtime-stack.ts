import { createHash } from 'node:crypto';
import type { HostTensor } from '../runtime/session';
import { slotInputNames, type LoraSlot } from '../../compiler/graph/lora-slots';
import type { WeightedDelta } from './merged-weights';
import type { AppliedStack } from './stack';
import type { LoraTargetComponent } from './types';

/**
 * How one component (UNet or text encoder) of a loaded model takes a LoRA stack at run time: every delta a
 * slot can carry becomes part of the slot feeds (switching = new feeds, same session); the rest is merged into
 * the weights of a separately compiled graph keyed by `mergedKey` — the identity of that rest only, so changing
 * a slotted LoRA's weight while e.g. a LoHa stays in the stack still only changes feeds.
 *
 * Per slot, LoRAs are taken in stack order while their total rank fits R; a LoRA that would overflow R on a
 * layer is merged for that layer (W + Σ is a sum, so which side carries a term does not change the result).
 * Weight-0 entries contribute nothing on either side, so "weight 0" is exactly the plain model.
 */
export interface RuntimeStackPlan {
  component: LoraTargetComponent;
  /** Slot inputs for every slot of the compiled graph (zeros where the stack has nothing). */
  feeds: Record<string, HostTensor>;
  /** Deltas the slots cannot carry, by canonical weight name, in stack order. */
  merged: Map<string, WeightedDelta[]>;
  /** Identity of `merged` (undefined when empty): part of the merged graph's cache key. */
  mergedKey: string | undefined;
  /** Layers fed through slots / merged, and the largest rank a slot carries. */
  slottedLayers: number;
  mergedLayers: number;
  usedRank: number;
  /** Why layers were merged, e.g. "lora_loha.safetensors: LoHa (12 layers)". */
  mergedWhy: string[];
}

/** `fileId(path)` names a LoRA file's contents (path + size + mtime) for the merged part's cache key. */
export function planRuntimeStack(
  applied: Pick<AppliedStack, 'normalized'>,
  component: LoraTargetComponent,
  slots: readonly LoraSlot[],
  rank: number,
  fileId: (file: string) => string,
): RuntimeStackPlan {
  const bySlot = new Map(slots.map((s) => [`${s.module}.weight`, s]));
  const parts = new Map<string, Array<{ up: Float32Array; down: Float32Array; r: number; s: number }>>();
  const used = new Map<string, number>();
  const merged = new Map<string, WeightedDelta[]>();
  const why = new Map<string, number>();
  const ids: string[] = [];
  for (const { file, weight, lora } of applied.normalized) {
    if (weight === 0) continue;
    const name = file.split(/[\\/]/).pop() ?? file;
    for (const d of lora.deltas) {
      if (d.target.component !== component) continue;
      const slot = bySlot.get(d.target.key);
      const f = slot && d.kind === 'lowrank' ? d.factors?.() : undefined;
      let reason: string | undefined;
      if (!slot) reason = 'layers without a run-time slot (convolutions, time embedding, biases)';
      else if (!f) reason = { lowrank: 'low-rank module without plain factors', full: 'full weight difference', loha: 'LoHa', lokr: 'LoKr' }[d.kind];
      else if (f.inner !== slot.inFeatures || f.out !== slot.outFeatures) reason = '3×3 or reshaped kernels';
      else if ((used.get(d.target.key) ?? 0) + f.rank > rank) reason = `total rank above the compiled ${rank}`;
      if (reason !== undefined || !f) {
        let list = merged.get(d.target.key);
        if (!list) merged.set(d.target.key, (list = []));
        list.push({ delta: d, multiplier: weight });
        ids.push(`${fileId(file)}\0${weight}\0${d.module}\0${d.target.key}`);
        const k = `${name}: ${reason}`;
        why.set(k, (why.get(k) ?? 0) + 1);
        continue;
      }
      used.set(d.target.key, (used.get(d.target.key) ?? 0) + f.rank);
      let list = parts.get(d.target.key);
      if (!list) parts.set(d.target.key, (list = []));
      list.push({ up: f.up, down: f.down, r: f.rank, s: weight * d.scale });
    }
  }
  const feeds: Record<string, HostTensor> = {};
  let usedRank = 0;
  // Slots the stack does not touch share one read-only zero buffer per size: at full size and R = 128 the
  // feeds are ~300 MB, and allocating them all on every switch would dominate its cost.
  const zeros = new Map<number, Float32Array>();
  const zero = (n: number): Float32Array => {
    let z = zeros.get(n);
    if (!z) zeros.set(n, (z = new Float32Array(n)));
    return z;
  };
  for (const slot of slots) {
    const list = parts.get(`${slot.module}.weight`) ?? [];
    const { inFeatures: inF, outFeatures: outF } = slot;
    const down = list.length === 0 ? zero(rank * inF) : new Float32Array(rank * inF);
    const up = list.length === 0 ? zero(outF * rank) : new Float32Array(outF * rank);
    let at = 0;
    for (const p of list) {
      down.set(p.down, at * inF); // rows of D stack along the rank
      for (let o = 0; o < outF; o++) {
        const src = o * p.r;
        const dst = o * rank + at;
        for (let k = 0; k < p.r; k++) up[dst + k] = p.s * p.up[src + k];
      }
      at += p.r;
    }
    usedRank = Math.max(usedRank, at);
    const names = slotInputNames(slot.module);
    feeds[names.down] = { type: 'float32', dims: slot.kind === 'linear' ? [rank, inF] : [rank, inF, 1, 1], data: down };
    feeds[names.up] = { type: 'float32', dims: slot.kind === 'linear' ? [outF, rank] : [outF, rank, 1, 1], data: up };
  }
  const mergedKey = ids.length === 0 ? undefined : createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16);
  return {
    component,
    feeds,
    merged,
    mergedKey,
    slottedLayers: parts.size,
    mergedLayers: merged.size,
    usedRank,
    mergedWhy: [...why].map(([k, n]) => `${k} (${n} layer${n === 1 ? '' : 's'})`),
  };
}
