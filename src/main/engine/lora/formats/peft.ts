import type { LoraComponent, LoraDelta } from '../types';
import { lowRankDelta } from './lowrank';
import { need, scalar, type ModuleContext, type ModuleGroup } from './module-group';

/**
 * diffusers / PEFT: `<component>.<module>.lora_A.weight` (down) and `.lora_B.weight` (up). The LoraConfig travels in
 * safetensors metadata `lora_adapter_metadata` as JSON with keys `unet.r`, `unet.lora_alpha`, `unet.rank_pattern`,
 * `unet.alpha_pattern`, `unet.use_rslora` (and `text_encoder.*`). peft's scaling is lora_alpha / r (or / √r with
 * rsLoRA), with per-module overrides from the patterns. Without metadata diffusers uses alpha = r (scale 1); a
 * kohya-style `.alpha` tensor next to the factors (ComfyUI-converted files) wins over both.
 */
export const PEFT_SUFFIXES = ['lora_A.weight', 'lora_B.weight'] as const;

export function isPeft(g: ModuleGroup): boolean {
  return g.tensors.has('lora_A.weight') || g.tensors.has('lora_B.weight');
}

interface PeftConfig {
  r?: number;
  lora_alpha?: number;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  use_rslora?: boolean;
}

const configCache = new WeakMap<Record<string, string>, Map<LoraComponent, PeftConfig | undefined>>();

/** The LoraConfig for one component from `lora_adapter_metadata`, or undefined when the file has none. */
export function peftConfig(metadata: Record<string, string>, component: LoraComponent): PeftConfig | undefined {
  let perFile = configCache.get(metadata);
  if (!perFile) configCache.set(metadata, (perFile = new Map()));
  if (perFile.has(component)) return perFile.get(component);
  let cfg: PeftConfig | undefined;
  const raw = metadata.lora_adapter_metadata;
  if (raw !== undefined) {
    try {
      const json = JSON.parse(raw) as Record<string, unknown>;
      const prefix = `${component}.`;
      const pick: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(json)) if (k.startsWith(prefix)) pick[k.slice(prefix.length)] = v;
      if (Object.keys(pick).length > 0) cfg = pick as PeftConfig;
    } catch {
      cfg = undefined; // unreadable metadata: fall back to diffusers' default (scale 1), as diffusers does
    }
  }
  perFile.set(component, cfg);
  return cfg;
}

/** peft's pattern rule: a pattern key matches a module whose path is the key or ends with `.key`. */
function fromPattern(pattern: Record<string, number> | undefined, module: string): number | undefined {
  if (!pattern) return undefined;
  for (const [k, v] of Object.entries(pattern)) {
    if (module === k || module.endsWith(`.${k}`)) return v;
    try {
      if (new RegExp(`^(.*\\.)?(${k})$`).test(module)) return v;
    } catch {
      /* not a regex: plain comparison above was enough */
    }
  }
  return undefined;
}

export function peftScale(metadata: Record<string, string>, ctx: Pick<ModuleContext, 'component' | 'module'>, rank: number, alphaTensor?: number): { scale: number; alpha: number } {
  if (alphaTensor !== undefined && alphaTensor !== 0) return { scale: alphaTensor / rank, alpha: alphaTensor };
  // diffusers keeps motion modules inside the UNet (UNetMotionModel), so their PEFT config is the UNet's.
  const cfg = peftConfig(metadata, ctx.component === 'motion' ? 'unet' : ctx.component);
  if (!cfg) return { scale: 1, alpha: rank };
  const alpha = fromPattern(cfg.alpha_pattern, ctx.module) ?? cfg.lora_alpha ?? rank;
  return { scale: cfg.use_rslora ? alpha / Math.sqrt(rank) : alpha / rank, alpha };
}

export function peftDeltas(g: ModuleGroup, ctx: ModuleContext): LoraDelta[] {
  const alpha = scalar(g.tensors.get('alpha'));
  return [
    lowRankDelta(g, ctx, { down: need(g, 'lora_A.weight'), up: need(g, 'lora_B.weight') }, 'diffusers_peft', (rank) =>
      peftScale(ctx.metadata, ctx, rank, alpha),
    ),
  ];
}
