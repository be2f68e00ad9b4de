import type { TensorView } from '../../../compiler/io/tensor';
import { numel } from '../../../compiler/io/tensor';
import type { LoraDelta, LoraTarget, LoraTargetComponent } from '../types';

/**
 * The tensors of one LoRA module, keyed by their suffix without the leading dot (`lora_down.weight`, `alpha`,
 * `hada_w1_a`, …). Every format file turns one group into LoraDeltas for one model module.
 */
export interface ModuleGroup {
  /** Module name as spelled in the file (`lora_unet_…_to_q`, `unet.…to_q`, `…processor.to_q_lora`). */
  name: string;
  tensors: Map<string, TensorView>;
}

export interface ModuleContext {
  component: LoraTargetComponent;
  /** Canonical module path (no `.weight`). */
  module: string;
  /** Shape of the model's `.weight` (and `.bias`, when it has one). */
  weightShape: number[];
  biasShape?: number[];
  /** safetensors `__metadata__` of the LoRA file. */
  metadata: Record<string, string>;
  /**
   * A low-rank scale fixed by the loader instead of alpha/rank: AnimateLCM's `convert_lcm_lora` hard-codes 1/8
   * for its spatial LoRAs and ignores the file's alpha and rank. Absent ⇒ the format's own rule.
   */
  fixedScale?: number;
}

/** A module the file has but that cannot be applied (wrong shapes, missing halves); goes to `unmatched`. */
export class ModuleError extends Error {}

export function need(g: ModuleGroup, suffix: string): TensorView {
  const v = g.tensors.get(suffix);
  if (!v) throw new ModuleError(`${g.name}: "${suffix}" is missing`);
  return v;
}

/** The value of a 0-d (or 1-element) tensor such as `.alpha`. */
export function scalar(v: TensorView | undefined): number | undefined {
  if (!v) return undefined;
  const d = v.readF32();
  if (d.length !== 1) throw new Error(`${v.name}: expected one value, found ${d.length}`);
  return d[0];
}

export function keysOf(g: ModuleGroup): string[] {
  return [...g.tensors.values()].map((v) => v.name);
}

export function weightTarget(ctx: ModuleContext): LoraTarget {
  return { component: ctx.component, key: `${ctx.module}.weight` };
}

export function checkCount(g: ModuleGroup, what: string, got: number, shape: readonly number[]): void {
  if (got !== numel(shape)) {
    throw new ModuleError(`${g.name}: its ${what} has ${got} values but the model's weight [${shape.join(',')}] has ${numel(shape)}`);
  }
}

/** A delta that computes once and keeps nothing: merges read it once per switch. */
export function makeDelta(d: Omit<LoraDelta, 'delta'>, compute: () => Float32Array): LoraDelta {
  return { ...d, delta: compute };
}
