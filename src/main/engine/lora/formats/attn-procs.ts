import type { LoraDelta } from '../types';
import { lowRankDelta } from './lowrank';
import { need, scalar, type ModuleContext, type ModuleGroup } from './module-group';

/**
 * diffusers ≤ 0.16 `save_attn_procs` files (`…attn1.processor.to_q_lora.down.weight` / `.up.weight`, with or
 * without a `unet.` prefix) and the later LoRALinearLayer spelling (`…to_q.lora.down.weight`). The module names
 * are mapped in keymap.ts (to_out_lora → to_out.0). No alpha: ΔW = up @ down, scale 1 — old diffusers applied
 * the multiplier as `cross_attention_kwargs={"scale": m}` only. An `.alpha` tensor, when present, is honoured.
 */
export const ATTN_PROC_SUFFIXES = ['down.weight', 'up.weight'] as const;

export function isAttnProc(g: ModuleGroup): boolean {
  return g.tensors.has('down.weight') || g.tensors.has('up.weight');
}

export function attnProcDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  const alpha = scalar(g.tensors.get('alpha'));
  return [
    lowRankDelta(g, ctx, { down: need(g, 'down.weight'), up: need(g, 'up.weight') }, 'diffusers_attn_procs', (rank) =>
      alpha === undefined || alpha === 0 ? { scale: 1, alpha: rank } : { scale: alpha / rank, alpha },
    ),
  ];
}
