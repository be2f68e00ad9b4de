import type { LoraDelta } from '../types';
import { lowRankDelta } from './lowrank';
import { need, scalar, type ModuleContext, type ModuleGroup } from './module-group';

/**
 * kohya-ss sd-scripts / LoCon: `lora_down.weight`, `lora_up.weight`, optional `lora_mid.weight`, optional `alpha`.
 * scale = alpha / rank with rank = lora_down.shape[0]; a missing or zero alpha means alpha = rank (scale 1),
 * as sd-scripts `networks/lora.py` and ComfyUI do.
 */
export const KOHYA_SUFFIXES = ['lora_down.weight', 'lora_up.weight', 'lora_mid.weight', 'alpha'] as const;

export function isKohya(g: ModuleGroup): boolean {
  return g.tensors.has('lora_down.weight') || g.tensors.has('lora_up.weight');
}

export function kohyaDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  const alpha = scalar(g.tensors.get('alpha'));
  return [
    lowRankDelta(
      g,
      ctx,
      { down: need(g, 'lora_down.weight'), up: need(g, 'lora_up.weight'), mid: g.tensors.get('lora_mid.weight') },
      'kohya',
      (rank) => {
        if (ctx.fixedScale !== undefined) return { scale: ctx.fixedScale, alpha };
        const a = alpha === undefined || alpha === 0 ? rank : alpha;
        return { scale: a / rank, alpha: a };
      },
    ),
  ];
}
