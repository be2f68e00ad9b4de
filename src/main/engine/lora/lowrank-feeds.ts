import { slotInputNames, type LoraSlot } from '../../compiler/graph/lora-slots';
import type { HostTensor } from '../runtime/session';
import type { AppliedStack } from './stack';

/**
 * The run side of run-time low-rank LoRA (the graph side, slot inputs on the UNet / CLIP layers, is
 * compiler/graph/lora-slots.ts): a stack's plain low-rank modules become the D/U feeds of the slots,
 * concatenated along the rank (multiplier and alpha/r folded into U) and zero-padded to R.
 */
export interface LowRankFeeds {
  feeds: Record<string, HostTensor>;
  /** Touched weights the slots cannot carry, with the reason; non-empty means the merged path is needed. */
  fallback: Array<{ key: string; why: string }>;
  /** Largest total rank any slot needed. */
  usedRank: number;
}

/** Feeds for every slot (zeros where the stack has nothing), from an applied stack's normalised LoRAs. */
export function lowRankFeeds(applied: Pick<AppliedStack, 'normalized'>, slots: readonly LoraSlot[], rank: number, component: 'unet' | 'text_encoder' = 'unet'): LowRankFeeds {
  const bySlot = new Map(slots.map((s) => [`${s.module}.weight`, s]));
  const parts = new Map<string, Array<{ up: Float32Array; down: Float32Array; r: number; s: number }>>();
  const fallback: LowRankFeeds['fallback'] = [];
  for (const { weight, lora } of applied.normalized) {
    for (const d of lora.deltas) {
      if (d.target.component !== component) continue;
      const slot = bySlot.get(d.target.key);
      if (!slot) {
        fallback.push({ key: d.target.key, why: 'no run-time slot for this layer' });
        continue;
      }
      const f = d.kind === 'lowrank' ? d.factors?.() : undefined;
      if (!f || f.inner !== slot.inFeatures || f.out !== slot.outFeatures) {
        fallback.push({ key: d.target.key, why: f ? 'a 3×3 or reshaped kernel' : `${d.kind} is not low-rank` });
        continue;
      }
      let list = parts.get(d.target.key);
      if (!list) parts.set(d.target.key, (list = []));
      list.push({ up: f.up, down: f.down, r: f.rank, s: weight * d.scale });
    }
  }
  const feeds: Record<string, HostTensor> = {};
  let usedRank = 0;
  for (const slot of slots) {
    const key = `${slot.module}.weight`;
    const list = parts.get(key) ?? [];
    const total = list.reduce((a, p) => a + p.r, 0);
    usedRank = Math.max(usedRank, total);
    const inF = slot.inFeatures;
    const outF = slot.outFeatures;
    const down = new Float32Array(inF * rank);
    const up = new Float32Array(rank * outF);
    if (total > rank) {
      fallback.push({ key, why: `stack rank ${total} exceeds the compiled maximum ${rank}` });
    } else {
      let at = 0;
      for (const p of list) {
        down.set(p.down, at * inF); // rows of D stack along the rank
        for (let o = 0; o < outF; o++) for (let k = 0; k < p.r; k++) up[o * rank + at + k] = p.s * p.up[o * p.r + k];
        at += p.r;
      }
    }
    const names = slotInputNames(slot.module);
    feeds[names.down] = { type: 'float32', dims: slot.kind === 'linear' ? [rank, inF] : [rank, inF, 1, 1], data: down };
    feeds[names.up] = { type: 'float32', dims: slot.kind === 'linear' ? [outF, rank] : [outF, rank, 1, 1], data: up };
  }
  return { feeds, fallback, usedRank };
}
