import { existsSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';
import { fileIdentity } from '../../compiler/cache';
import { slotsFor, type LoraSlot } from '../../compiler/graph/lora-slots';
import type { TensorTable } from '../../compiler/io/tensor';
import { planRuntimeStack, type RuntimeStackPlan } from '../lora/runtime-stack';
import { applyLoraStack, loadIntoMemory, type LoraReport } from '../lora/stack';
import type { LoraComponent } from '../lora/types';
import { f32ToF16 } from '../runtime/float16';
import type { HostTensor } from '../runtime/session';
import type { LoraSpec, ModelSource } from './model-source';

/**
 * Default maximum LoRA rank per layer. 128 carries AnimateLCM's rank-64 spatial LoRA plus a rank-≤64 style LoRA
 * (or one rank-128 LoRA) on slots; cost measured at full SD1.5 size in engine/lora/README.md (switch ≈ 2 s,
 * per-step overhead a few percent on the CPU).
 */
export const DEFAULT_LORA_RANK = 128;

/** What a stack change did, for progress messages and tests. */
export interface LoraSwitch {
  /** Per component: nothing, slot feeds only, merged graph only, or both. */
  paths: Record<LoraComponent, 'none' | 'slots' | 'merged' | 'slots+merged'>;
  reports: LoraReport[];
  /** One sentence for the creator saying which path each component took. */
  message: string;
  elapsedMs: number;
}

/** A component's merged LoRA part that the new stack no longer uses (its sessions can close). */
export interface RetiredMerge {
  component: LoraComponent;
  mergedKey: string;
}

/**
 * The current LoRA stack of a loaded model, as what the sessions need: per component, the slot feeds passed with
 * every UNet / text-encoder run (already in the graph's float type) and the plan of what slots cannot carry (its
 * `mergedKey` selects the merged graph). Switching reads only the LoRA files — no compile, no session, no base
 * weight read (engine/lora/README.md).
 */
export class LoraFeeds {
  readonly rank: number;
  /** Stack switches after the first `set`. */
  switches = 0;
  private readonly slots: Record<LoraComponent, LoraSlot[]>;
  /** Slots on the motion modules' attentions; they live in the UNet + motion graph, so their feeds join the UNet's. */
  private readonly motionSlots: LoraSlot[];
  /** The current stack's LoRA files, in memory, by file identity. */
  private tables = new Map<string, TensorTable>();
  private state: { stackId: string; switch: LoraSwitch; plans: Record<LoraComponent, RuntimeStackPlan>; feeds: Record<LoraComponent, Record<string, HostTensor>> } | undefined;

  constructor(
    private readonly source: ModelSource,
    rank: number,
    private readonly floatType: 'float32' | 'float16',
  ) {
    this.rank = Math.max(0, Math.floor(rank));
    this.slots = {
      unet: this.rank > 0 ? slotsFor(source.weights.unet) : [],
      text_encoder: this.rank > 0 ? slotsFor(source.weights.text_encoder) : [],
    };
    this.motionSlots = this.rank > 0 ? slotsFor(source.weights.motion) : [];
  }

  /**
   * Makes `loras` the current stack (order = application order). Returns what the switch did, the merged parts
   * no longer in use, and whether the feeds changed (false when it is the current stack again). Throws FILE_NOT_FOUND / LORA_INCOMPATIBLE and keeps the previous stack then.
   */
  set(loras: readonly LoraSpec[]): { switch: LoraSwitch; retired: RetiredMerge[]; changed: boolean } {
    const t0 = performance.now();
    const stackId = JSON.stringify(loras.map((l) => [safeIdentity(l.path), l.weight, l.fixedScale ?? null]));
    if (this.state && this.state.stackId === stackId) return { switch: this.state.switch, retired: [], changed: false }; // same files, same weights
    const w = this.source.weights;
    let applied: ReturnType<typeof applyLoraStack>;
    const tables = new Map<string, TensorTable>();
    try {
      const entries = loras.map((l) => {
        // The LoRA files of the current stack stay in memory: a weight change or a re-order reads no file.
        const id = safeIdentity(l.path);
        let t = tables.get(id) ?? this.tables.get(id);
        if (!t && !existsSync(l.path)) throw new StudioError('FILE_NOT_FOUND', `The LoRA file ${l.path} does not exist (moved or deleted?).`, { path: l.path });
        if (!t) t = loadIntoMemory(l.path);
        tables.set(id, t);
        return { file: t, weight: l.weight, fixedScale: l.fixedScale };
      });
      applied = applyLoraStack({ unet: w.unet, text_encoder: w.text_encoder, motion: w.motion }, entries);
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw new StudioError('LORA_INCOMPATIBLE', `A LoRA could not be applied: ${e instanceof Error ? e.message : String(e)}`);
    }
    const plans = {
      unet: planRuntimeStack(applied, 'unet', this.slots.unet, this.rank, safeIdentity),
      text_encoder: planRuntimeStack(applied, 'text_encoder', this.slots.text_encoder, this.rank, safeIdentity),
    };
    // MotionLoRAs (AnimateDiff camera motions) ride slots on the motion modules only: the merged-overlay path
    // rewrites the UNet's own weights file, not the motion module's.
    const motion = planRuntimeStack(applied, 'motion', this.motionSlots, this.rank, safeIdentity);
    if (motion.mergedKey) {
      throw new StudioError(
        'LORA_INCOMPATIBLE',
        `This motion LoRA stack cannot be switched in at run time: ${motion.mergedWhy.join('; ')}. Use fewer motion LoRAs at once (their ranks add up to at most ${this.rank}) or plain low-rank motion LoRAs.`,
        { why: motion.mergedWhy, rank: this.rank },
      );
    }
    const feeds = { unet: this.inFloatType({ ...plans.unet.feeds, ...motion.feeds }), text_encoder: this.inFloatType(plans.text_encoder.feeds) };
    const path = (p: RuntimeStackPlan): LoraSwitch['paths']['unet'] =>
      p.slottedLayers > 0 ? (p.mergedKey ? 'slots+merged' : 'slots') : p.mergedKey ? 'merged' : 'none';
    const unetPath = path(plans.unet);
    // The motion slots are inputs of the UNet + motion graph: a motion LoRA makes that component's path 'slots'.
    const withMotion = motion.slottedLayers === 0 ? unetPath : unetPath === 'none' ? 'slots' : unetPath === 'merged' ? 'slots+merged' : unetPath;
    const sw: LoraSwitch = { paths: { unet: withMotion, text_encoder: path(plans.text_encoder) }, reports: applied.reports, message: switchMessage(plans, this.rank, motion), elapsedMs: 0 };
    const previous = this.state;
    this.state = { switch: sw, plans, feeds, stackId };
    this.tables = tables;
    const retired: RetiredMerge[] = [];
    if (previous) {
      this.switches++;
      for (const component of ['unet', 'text_encoder'] as const) {
        const old = previous.plans[component].mergedKey;
        if (old && old !== plans[component].mergedKey) retired.push({ component, mergedKey: old });
      }
    }
    sw.elapsedMs = performance.now() - t0;
    return { switch: sw, retired, changed: true };
  }

  /** What the last `set` did. */
  get current(): LoraSwitch {
    return this.live().switch;
  }

  /** The component's plan (its `mergedKey` picks the graph) and its slot feeds for the next run. */
  of(component: LoraComponent): { plan: RuntimeStackPlan; feeds: Record<string, HostTensor> } {
    const s = this.live();
    return { plan: s.plans[component], feeds: s.feeds[component] };
  }

  private live(): NonNullable<LoraFeeds['state']> {
    if (!this.state) throw new Error('LoraFeeds.set was never called');
    return this.state;
  }

  /** Slot feeds in the graph's float type, converted once per switch rather than on every run. */
  private inFloatType(feeds: Record<string, HostTensor>): Record<string, HostTensor> {
    if (this.floatType === 'float32') return feeds;
    const done = new Map<Float32Array, Uint16Array>(); // shared zero buffers convert once
    const half = (a: Float32Array): Uint16Array => {
      let h = done.get(a);
      if (!h) done.set(a, (h = f32ToF16(a)));
      return h;
    };
    return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: 'float16', dims: t.dims, data: half(t.data as Float32Array) } satisfies HostTensor]));
  }
}

/** A LoRA file's identity (path, size, mtime), so an edited file counts as another stack. */
function safeIdentity(path: string): string {
  try {
    return fileIdentity(path);
  } catch {
    return path; // an in-memory table or a missing file (applyLoraStack reports the latter)
  }
}

function switchMessage(plans: Record<LoraComponent, RuntimeStackPlan>, rank: number, motion: RuntimeStackPlan): string {
  const parts: string[] = [];
  if (motion.slottedLayers > 0) parts.push(`motion modules: ${motion.slottedLayers} layers switched at run time (rank ${motion.usedRank}/${rank}, no recompile)`);
  for (const c of ['unet', 'text_encoder'] as const) {
    const p = plans[c];
    const label = c === 'unet' ? 'UNet' : 'text encoder';
    if (p.slottedLayers === 0 && !p.mergedKey) continue;
    const bits: string[] = [];
    if (p.slottedLayers > 0) bits.push(`${p.slottedLayers} layers switched at run time (rank ${p.usedRank}/${rank}, no recompile)`);
    if (p.mergedKey) bits.push(`${p.mergedLayers} layers merged (overlay of only the touched tensors, one new session) — ${p.mergedWhy.join('; ')}`);
    parts.push(`${label}: ${bits.join('; ')}`);
  }
  return parts.length === 0 ? 'LoRA stack: none active (plain model).' : `LoRA stack — ${parts.join('. ')}.`;
}
