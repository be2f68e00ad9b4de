/**
 * The one form every LoRA file format is normalised to: per targeted model weight, a recipe that yields ΔW.
 * Stacking, verification and the run-time switcher only ever see this form, never a file format.
 */
export type LoraComponent = 'unet' | 'text_encoder';
/** What a delta can target: the spatial components plus `motion`, the AnimateDiff motion modules (MotionAdapter names) MotionLoRAs change. */
export type LoraTargetComponent = LoraComponent | 'motion';

export type LoraKind = 'lowrank' | 'full' | 'loha' | 'lokr';

/** Which algorithm/file layout a module came from (for reports and the library UI). */
export type LoraFormat = 'kohya' | 'diffusers_peft' | 'diffusers_attn_procs' | 'lycoris_loha' | 'lycoris_lokr' | 'full_diff';

export interface LoraTarget {
  component: LoraTargetComponent;
  /** Canonical weight name (diffusers/transformers, no component prefix), e.g. `…attn1.to_q.weight`. */
  key: string;
}

export interface LoraDelta {
  target: LoraTarget;
  kind: LoraKind;
  format: LoraFormat;
  /** The LoRA file's module name (e.g. `lora_unet_down_blocks_0_…_to_q`), for reports. */
  module: string;
  /** The LoRA file keys this delta consumed. */
  keys: string[];
  /** Shape of the targeted weight; `delta()` has exactly this many elements. */
  shape: number[];
  /** Rank used for the scale (low-rank factor's inner dimension); undefined for full/LoKr-full. */
  rank?: number;
  alpha?: number;
  /** alpha/rank with the defaults of the format already applied. Already folded into `delta()`. */
  scale: number;
  /**
   * Low-rank factors in matrix form, when ΔW = scale · up @ down (kohya, PEFT, attn-procs, LoCon incl. lora_mid):
   * `up` [out, r], `down` [r, in·kh·kw]. The run-time low-rank path feeds these instead of merging.
   */
  factors?: () => { up: Float32Array; down: Float32Array; rank: number; out: number; inner: number };
  /** ΔW in W's shape (C order), scale included, user multiplier NOT included. */
  delta(): Float32Array;
}
