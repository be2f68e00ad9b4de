import { existsSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';
import type { MotionGroupNormMode, ProviderName } from '../../../shared/domain/generation';
import { CompileCache, fileIdentity, type CacheKey } from '../../compiler/cache';
import { addGraph, compileGraphs } from '../../compiler/compile';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { buildUNetGraph } from '../../compiler/families/unet';
import { buildVaeDecoderGraph } from '../../compiler/families/vae';
import { attentionLabel, attentionPlanFor, type AttentionPlan } from '../../compiler/graph/attention-plan';
import type { GraphIR } from '../../compiler/graph/builder';
import type { WeightSet } from '../../compiler/io/tensor';
import { slotsFor, type LoraSlot, type LoraSlotPlan } from '../lora/lowrank-slots';
import { GemmMerger } from '../lora/gemm-merger';
import { MergedWeights } from '../lora/merged-weights';
import { planRuntimeStack, type RuntimeStackPlan } from '../lora/runtime-stack';
import { applyLoraStack, loadIntoMemory, type LoraReport } from '../lora/stack';
import type { TensorTable } from '../../compiler/io/tensor';
import type { LoraComponent } from '../lora/types';
import { f32ToF16 } from '../runtime/float16';
import { createSession, f32Tensor, type EngineSession, type HostTensor } from '../runtime/session';
import type { PipelineModels, UNetCallShape } from '../pipelines/pipeline-models';
import { compileMergedOverlay } from './lora-overlay-entry';
import type { LoraSpec, ModelSource } from './model-source';

/**
 * Binds PipelineModels to compiled ONNX sessions. Each component (text encoder, UNet + motion, VAE decoder) is
 * one compile-cache entry keyed WITHOUT the shape — config, weight identity, precision, GroupNorm mode — so its
 * weights are written once; each shape the pipeline asks for (batch 1|2 for CFG, frames, latent size, 77·k
 * tokens, clip skip) is one small graph file added to that entry on first use. Sessions stay open for the life
 * of the set: a second generation with the same model and shape neither compiles nor reloads anything.
 *
 * LoRA stacks are switched at run time (`setLoras`, engine/lora/README.md): the UNet and text encoder graphs
 * have rank-R low-rank slot inputs on their transformer Linear / 1×1 layers, so a stack (or weight) change is
 * new feeds into the same sessions — no compile, no session, no base weight read. Only what slots cannot carry
 * (LoHa, LoKr, full diffs, convolutions, rank above R) is merged, into an overlay of just the touched tensors in
 * the component's cache entry (identity = that part of the stack alone; lora-overlay-entry.ts), and opens as one
 * new session on the next run.
 */

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

export type Component = 'text_encoder' | 'unet' | 'vae';

export interface CompileEvent {
  component: Component;
  /** The graph (shape) concerned, e.g. `unet_b2_f16_64x64_t77`. */
  graph: string;
  phase: 'start' | 'done';
  /** True when the compiled graph came from the cache (no compile happened). */
  reused: boolean;
  elapsedMs: number;
  message: string;
}

export interface ModelSetOptions {
  /** The compile cache folder (`<data dir>/cache`). */
  cacheRoot: string;
  providers?: ProviderName[];
  groupnorm?: MotionGroupNormMode;
  /** Default: float32 when the first provider is the CPU, float16 on a GPU. */
  precision?: 'float32' | 'float16';
  intraOpThreads?: number;
  /** Maximum LoRA rank of the run-time slots (default DEFAULT_LORA_RANK); 0 = no slots (every stack is merged). */
  loraRank?: number;
}

const COMPONENT_LABEL: Record<Component, string> = { text_encoder: 'text encoder', unet: 'UNet + motion module', vae: 'VAE decoder' };

export class ModelSet {
  readonly providers: ProviderName[];
  readonly precision: 'float32' | 'float16';
  /** The attention the UNet and VAE graphs are compiled with, for the first provider (attention-plan.ts). */
  readonly attention: AttentionPlan;
  readonly groupnorm: MotionGroupNormMode;
  private readonly cache: CompileCache;
  private readonly sessions = new Map<string, Promise<EngineSession>>();
  /** Graphs compiled (not reused) since this set was made, for tests and `--json`. */
  readonly compiled: string[] = [];
  /** Where compile events go; generate() points it at the current job. */
  onCompile: ((e: CompileEvent) => void) | undefined;
  /** Where provider-fallback notes go. */
  onNote: ((message: string) => void) | undefined;
  readonly loraRank: number;
  /** Counters for tests and benches: sessions opened, stack switches. */
  readonly stats = { sessionsCreated: 0, loraSwitches: 0 };
  private readonly slots: Record<LoraComponent, LoraSlot[]>;
  /** The current stack's LoRA files, in memory, by file identity. */
  private loraTables = new Map<string, TensorTable>();
  /** onnxruntime GEMM for merging low-rank parts into overlay tensors (opened on first merged stack). */
  private gemm: GemmMerger | undefined;
  private lora!: { stackId: string; switch: LoraSwitch; plans: Record<LoraComponent, RuntimeStackPlan>; feeds: Record<LoraComponent, Record<string, HostTensor>> };

  constructor(
    readonly source: ModelSource,
    private readonly opts: ModelSetOptions,
  ) {
    this.providers = opts.providers && opts.providers.length > 0 ? opts.providers : ['cpu'];
    this.precision = opts.precision ?? (this.providers[0] === 'cpu' ? 'float32' : 'float16');
    this.groupnorm = opts.groupnorm ?? 'per_frame';
    this.attention = attentionPlanFor(this.providers[0]);
    this.cache = new CompileCache(opts.cacheRoot);
    this.loraRank = Math.max(0, Math.floor(opts.loraRank ?? DEFAULT_LORA_RANK));
    this.slots = {
      unet: this.loraRank > 0 ? slotsFor(source.weights.unet) : [],
      text_encoder: this.loraRank > 0 ? slotsFor(source.weights.text_encoder) : [],
    };
    this.setLoras(source.loras ?? []);
  }

  /**
   * Switches the LoRA stack of the loaded model (order = application order, AnimateLCM's LoRA first). Reads
   * only the LoRA files; slot-compatible deltas become feeds for the next UNet / text-encoder run (no compile,
   * no session, no base weight read); the rest is merged into an overlay of the touched tensors (keyed by that
   * rest alone), opened as one new session on next use. Throws FILE_NOT_FOUND / LORA_INCOMPATIBLE (family,
   * unreadable file) and leaves the previous stack in place then.
   */
  setLoras(loras: readonly LoraSpec[]): LoraSwitch {
    const t0 = performance.now();
    const stackId = JSON.stringify(loras.map((l) => [safeIdentity(l.path), l.weight]));
    if (this.lora && this.lora.stackId === stackId) return this.lora.switch; // same files, same weights
    const w = this.source.weights;
    let applied: ReturnType<typeof applyLoraStack>;
    const tables = new Map<string, TensorTable>();
    try {
      const entries = loras.map((l) => {
        // The LoRA files of the current stack stay in memory: a weight change or a re-order reads no file.
        const id = safeIdentity(l.path);
        let t = tables.get(id) ?? this.loraTables.get(id);
        if (!t && !existsSync(l.path)) throw new StudioError('FILE_NOT_FOUND', `The LoRA file ${l.path} does not exist (moved or deleted?).`, { path: l.path });
        if (!t) t = loadIntoMemory(l.path);
        tables.set(id, t);
        return { file: t, weight: l.weight };
      });
      applied = applyLoraStack({ unet: w.unet, text_encoder: w.text_encoder }, entries);
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw new StudioError('LORA_INCOMPATIBLE', `A LoRA could not be applied: ${e instanceof Error ? e.message : String(e)}`);
    }
    const plans = {
      unet: planRuntimeStack(applied, 'unet', this.slots.unet, this.loraRank, safeIdentity),
      text_encoder: planRuntimeStack(applied, 'text_encoder', this.slots.text_encoder, this.loraRank, safeIdentity),
    };
    const feeds = { unet: this.hostFeeds(plans.unet.feeds), text_encoder: this.hostFeeds(plans.text_encoder.feeds) };
    const path = (p: RuntimeStackPlan): LoraSwitch['paths']['unet'] =>
      p.slottedLayers > 0 ? (p.mergedKey ? 'slots+merged' : 'slots') : p.mergedKey ? 'merged' : 'none';
    const paths = { unet: path(plans.unet), text_encoder: path(plans.text_encoder) };
    const sw: LoraSwitch = { paths, reports: applied.reports, message: switchMessage(plans, this.loraRank), elapsedMs: 0 };
    const previous = this.lora;
    this.lora = { switch: sw, plans, feeds, stackId };
    this.loraTables = tables;
    if (previous) {
      this.stats.loraSwitches++;
      // A merged session of a stack no longer in use holds its own copy of the component's weights: close it.
      for (const c of ['unet', 'text_encoder'] as const) {
        const old = previous.plans[c].mergedKey;
        if (old && old !== plans[c].mergedKey) this.closeSessions((name) => name.endsWith(`_lora-${old}`) && this.componentOf(name) === c);
      }
    }
    sw.elapsedMs = performance.now() - t0;
    return sw;
  }

  /** Coverage of the current stack, one report per LoRA. */
  get loraReports(): LoraReport[] {
    return this.lora.switch.reports;
  }

  /** What the last `setLoras` did. */
  get loraSwitch(): LoraSwitch {
    return this.lora.switch;
  }

  /**
   * The PipelineModels view: every call compiles/opens the graph for its shape on first use. With a `signal`,
   * an abort during a (long) first-use compile stops before the model runs.
   */
  models(signal?: AbortSignal): PipelineModels {
    const c = this.source.configs;
    return {
      latentChannels: c.unet.in_channels,
      vaeScaleFactor: 2 ** (c.vae.block_out_channels.length - 1),
      vaeScalingFactor: c.vae.scaling_factor,
      contextDim: c.text_encoder.hidden_size,
      maxFrames: c.motion.motion_max_seq_length,
      encodeText: (ids, clipSkip) => this.encodeText(ids, clipSkip, signal),
      unet: (sample, timestep, context, shape) => this.unet(sample, timestep, context, shape, signal),
      decode: (latents, h, w) => this.decode(latents, h, w, signal),
    };
  }

  async encodeText(ids: readonly number[], clipSkip: number, signal?: AbortSignal): Promise<Float32Array> {
    const S = ids.length;
    const { plan, feeds } = this.current('text_encoder');
    const name = (clipSkip <= 2 ? `clip_text_s${S}` : `clip_text_s${S}_skip${clipSkip}`) + mergedSuffix(plan);
    const s = await this.session('text_encoder', name, plan, (w, graphName) =>
      renamed(buildClipTextGraph(w, this.source.configs.text_encoder, { batch: 1, seqLen: S, floatType: this.precision, clipSkip: clipSkip > 2 ? clipSkip : undefined, loraSlots: this.slotPlan() }), graphName),
    );
    checkAborted(signal);
    const out = await s.run(
      { input_ids: { type: 'int64', dims: [1, S], data: BigInt64Array.from(ids, (v) => BigInt(v)) }, ...feeds },
      { outputs: [clipSkip === 1 ? 'last_hidden_state' : clipSkip === 2 ? 'penultimate_normed' : 'clip_skip_normed'] },
    );
    return Object.values(out)[0].data as Float32Array;
  }

  async unet(sample: Float32Array, timestep: number, context: Float32Array, shape: UNetCallShape, signal?: AbortSignal): Promise<Float32Array> {
    const { batch, frames, latentHeight: h, latentWidth: w, tokens } = shape;
    const { plan, feeds } = this.current('unet');
    const name = `unet_b${batch}_f${frames}_${h}x${w}_t${tokens}${mergedSuffix(plan)}`;
    const src = this.source;
    const s = await this.session('unet', name, plan, (weights, graphName) =>
      buildUNetGraph(weights, src.configs.unet, {
        batch,
        latentHeight: h,
        latentWidth: w,
        contextLength: tokens,
        floatType: this.precision,
        attention: this.attention,
        motion: { w: src.weights.motion, cfg: src.configs.motion, frames, groupnorm: this.groupnorm },
        name: graphName,
        loraSlots: this.slotPlan(),
      }),
    );
    checkAborted(signal);
    const N = batch * frames;
    const out = await s.run({
      sample: f32Tensor(sample, [N, src.configs.unet.in_channels, h, w]),
      timestep: f32Tensor(Float32Array.of(timestep), [1]),
      encoder_hidden_states: f32Tensor(context, [N, tokens, src.configs.text_encoder.hidden_size]),
      // The stack's slot feeds go with every UNet run (zeros when the stack is empty).
      ...feeds,
    });
    return out.noise_pred.data as Float32Array;
  }

  async decode(latents: Float32Array, h: number, w: number, signal?: AbortSignal): Promise<Float32Array> {
    const name = `vae_decoder_${h}x${w}`;
    const s = await this.session('vae', name, undefined, () =>
      renamed(buildVaeDecoderGraph(this.source.weights.vae, this.source.configs.vae, { batch: 1, latentHeight: h, latentWidth: w, floatType: this.precision, attention: this.attention }), name),
    );
    checkAborted(signal);
    const out = await s.run({ latents: f32Tensor(latents, [1, this.source.configs.vae.latent_channels, h, w]) });
    return out.image.data as Float32Array;
  }

  async dispose(): Promise<void> {
    await this.gemm?.dispose().catch(() => undefined);
    this.gemm = undefined;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        await (await p).dispose();
      } catch {
        // a session that failed to open has nothing to close
      }
    }
    this.source.close();
  }

  private current(component: LoraComponent): { plan: RuntimeStackPlan; feeds: Record<string, HostTensor> } {
    return { plan: this.lora.plans[component], feeds: this.lora.feeds[component] };
  }

  private slotPlan(): LoraSlotPlan | undefined {
    return this.loraRank > 0 ? { rank: this.loraRank } : undefined;
  }


  /** float32 slot feeds as the session wants them (converted once per switch, not per run, in an fp16 graph). */
  private hostFeeds(feeds: Record<string, HostTensor>): Record<string, HostTensor> {
    if (this.precision === 'float32') return feeds;
    const done = new Map<Float32Array, Uint16Array>(); // shared zero buffers convert once
    const half = (a: Float32Array): Uint16Array => {
      let h = done.get(a);
      if (!h) done.set(a, (h = f32ToF16(a)));
      return h;
    };
    return Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: 'float16', dims: t.dims, data: half(t.data as Float32Array) } satisfies HostTensor]));
  }

  private componentOf(name: string): Component {
    return name.startsWith('unet_') ? 'unet' : name.startsWith('clip_text_') ? 'text_encoder' : 'vae';
  }

  private closeSessions(which: (name: string) => boolean): void {
    for (const [name, p] of [...this.sessions]) {
      if (!which(name)) continue;
      this.sessions.delete(name);
      p.then((s) => s.dispose()).catch(() => undefined);
    }
  }

  private cacheKey(component: Component): CacheKey {
    const c = this.source.configs;
    const family = { text_encoder: 'clip_text', unet: 'unet_motion', vae: 'vae_decoder' }[component];
    const config = component === 'unet' ? { unet: c.unet, motion: c.motion } : component === 'vae' ? c.vae : c.text_encoder;
    // The LoRA stack is NOT part of the key, only the slot rank (it shapes the graph); the merged part of a
    // stack lives in this same entry as an overlay (lora-overlay-entry.ts).
    const slotted = component !== 'vae' && this.loraRank > 0;
    // Fused attention (every provider but WebGPU) keeps the keys cache entries had before plans existed.
    const attention = component !== 'text_encoder' && this.attention.kind !== 'fused' ? { attention: attentionLabel(this.attention) } : {};
    return {
      family,
      config,
      weights: [JSON.stringify(this.source.identity[component])],
      precision: this.precision,
      options:
        component === 'unet'
          ? { groupnorm: this.groupnorm, ...(slotted ? { loraRank: this.loraRank } : {}), ...attention }
          : slotted
            ? { loraRank: this.loraRank }
            : component === 'vae' && attention.attention
              ? attention
              : undefined,
    };
  }

  private session(component: Component, name: string, plan: RuntimeStackPlan | undefined, build: (w: WeightSet, graphName: string) => GraphIR): Promise<EngineSession> {
    let p = this.sessions.get(name);
    if (!p) {
      p = this.open(component, name, plan, build);
      this.sessions.set(name, p);
      // A failed open must not poison later attempts.
      p.catch(() => this.sessions.delete(name));
    }
    return p;
  }

  private async open(component: Component, name: string, plan: RuntimeStackPlan | undefined, build: (w: WeightSet, graphName: string) => GraphIR): Promise<EngineSession> {
    const t0 = performance.now();
    const label = COMPONENT_LABEL[component];
    const what = this.source.isStarter ? `${label} of the starter test model` : label;
    const emit = (phase: 'start' | 'done', reused: boolean, message: string): void =>
      this.onCompile?.({ component, graph: name, phase, reused, elapsedMs: performance.now() - t0, message });
    const key = this.cacheKey(component);
    const withMerged = plan?.mergedKey ? ` with the merged LoRA part (${plan.mergedWhy.join('; ')})` : '';
    let path: string;
    let reused = true;
    try {
      const hit = this.cache.lookup(key);
      const listed = hit && hit.manifest.files[`${name}.onnx`] !== undefined;
      if (!listed) {
        reused = false;
        emit('start', false, `Compiling the ${what}${withMerged} for this shape (first use; cached afterwards)…`);
      }
      const base = this.source.weights[component];
      if (plan?.mergedKey && component !== 'vae') {
        const baseName = name.slice(0, -mergedSuffix(plan).length);
        const merged = new MergedWeights(base, plan.merged);
        const r = await compileMergedOverlay({
          cache: this.cache,
          baseKey: key,
          mergedKey: plan.mergedKey,
          name,
          buildBase: () => build(base, baseName),
          buildMerged: () => build(merged, name),
          merged,
          gemm: (this.gemm ??= new GemmMerger({ intraOpThreads: this.opts.intraOpThreads })),
        });
        path = r.path;
        if (r.timing) this.onNote?.(`Merged LoRA overlay for the ${label}: ${r.timing.tensors} tensors, ${(r.timing.bytes / 2 ** 20).toFixed(0)} MiB (base weights untouched).`);
      } else {
        const { entry, models } = await compileGraphs(this.cache, key, () => [build(base, name)]);
        path = models[name] ?? (await addGraph(this.cache, entry, build(base, name)));
      }
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw new StudioError('COMPILE_FAILED', `Compiling the ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { component, graph: name });
    }
    if (!reused) this.compiled.push(name);
    const session = await createSession(path, { providers: this.providers, intraOpThreads: this.opts.intraOpThreads, onFallback: (m) => this.onNote?.(m) });
    this.stats.sessionsCreated++;
    emit('done', reused, reused ? `Loaded the compiled ${what}${withMerged} from the cache.` : `Compiled the ${what}${withMerged}.`);
    return session;
  }
}

/** A first-use compile can take long: an abort during it stops before the model runs. */
function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('CANCELLED', 'Generation cancelled.');
}

/** A LoRA file's identity (path, size, mtime), so an edited file counts as another stack. */
function safeIdentity(path: string): string {
  try {
    return fileIdentity(path);
  } catch {
    return path; // an in-memory table or a missing file (applyLoraStack reports the latter)
  }
}

function mergedSuffix(plan: RuntimeStackPlan): string {
  return plan.mergedKey ? `_lora-${plan.mergedKey}` : '';
}

function switchMessage(plans: Record<LoraComponent, RuntimeStackPlan>, rank: number): string {
  const parts: string[] = [];
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

function renamed(g: GraphIR, name: string): GraphIR {
  return { ...g, name };
}
