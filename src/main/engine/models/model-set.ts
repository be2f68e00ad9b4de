import { attentionPlanFor, type AttentionPlan } from '../../compiler/graph/attention-plan';
import type { QuantPlan } from '../../compiler/graph/quant-plan';
import { normPlanFor } from '../../compiler/graph/norm-plan';
import { convPlanFor } from '../../compiler/graph/conv-plan';
import { trigPlanFor } from '../../compiler/graph/trig-plan';
import { existsSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';
import { windowFusionPlan } from '../../compiler/families/context-windows';
import type { MotionGroupNormMode, ProviderName } from '../../../shared/domain/generation';
import type { LoraReport } from '../lora/stack';
import type { RuntimeStackPlan } from '../lora/runtime-stack';
import { createSession, f32Tensor, type DeviceTransfers, type EngineSession, type Feed, type HostTensor } from '../runtime/session';
import type { ImageFeatures, PipelineModels, UNetCallShape, UNetExtras } from '../pipelines/pipeline-models';
import { imageFeatureName } from '../../compiler/families/image-encoder';
import { imageFeatureLevels } from '../../compiler/families/unet';
import { COMPONENT_LABEL, GraphCompiler, type CompileEvent } from './graph-compiler';
import { graphName, isLoraComponent, textEncoderShape, type Component, type GraphId, type GraphShape } from './graph-identity';
import { DEFAULT_LORA_RANK, LoraFeeds, type LoraSwitch } from './lora-feeds';
import type { LoraSpec, ModelSource } from './model-source';
import { ResidentFeeds } from './resident-feeds';
import { SessionPool } from './session-pool';
import { sessionMemory, type MemoryTarget } from '../memory/estimate';
import { fileIdentity } from '../../compiler/cache';
import type { WeightSet } from '../../compiler/io/tensor';
import type { EmbeddingVocab } from '../embeddings/embedding-vocab';
import { f32ToF16 } from '../runtime/float16';
import { openVaeOverride, type VaeOverride } from './vae-override';
import type { ControlResiduals } from '../control/control-residuals';
import { controlResidualShapes } from '../../compiler/families/controlnet';
import type { UNetConfig } from '../../compiler/families/configs';

/**
 * A loaded model as `PipelineModels`: each call names the graph it needs as data (GraphId: component + shape +
 * merged LoRA part), the GraphCompiler makes sure that graph is in the compile cache (graph-compiler.ts), and the
 * SessionPool runs it on an open session, opening one on first use and closing least recently used ones when the
 * memory budget says so (session-pool.ts). LoRA stacks switch at run time (`setLoras`): slot feeds into the same
 * sessions, plus a merged graph only for what slots cannot carry (lora-feeds.ts, engine/lora/README.md).
 */

export interface ModelSetOptions {
  /** The compile cache folder (`<data dir>/cache`). */
  cacheRoot: string;
  providers?: ProviderName[];
  groupnorm?: MotionGroupNormMode;
  /** Default: float32 when the first provider is the CPU, float16 on a GPU. */
  precision?: 'float32' | 'float16';
  /**
   * The UNet's Linear and conv layers as int8 products (compiler/graph/quant-plan.ts): the labelled faster CPU precision.
   * Only with the CPU provider and float32 graphs (refused otherwise); default float.
   */
  quant?: QuantPlan;
  intraOpThreads?: number;
  /** Maximum LoRA rank of the run-time slots (default DEFAULT_LORA_RANK); 0 = no slots (every stack is merged). */
  loraRank?: number;
  /**
   * Bytes the open sessions may hold together (weights + arenas, memory/estimate.ts; device bytes on a GPU); least
   * recently used sessions close first. Default: no limit. generate() sets it from this machine (sessionBudgetBytes).
   */
  sessionBudgetBytes?: number;
  /** At most one UNet session open at a time (each holds the full UNet + motion weights). Default: on a GPU. */
  oneUNet?: boolean;
  /**
   * Keep constant feeds (LoRA slots, the clip's text context) in GPU memory between runs where the provider allows
   * it (resident-feeds.ts). Default true; false copies every feed on every run (the bench's "before").
   */
  residentFeeds?: boolean;
}

export class ModelSet {
  readonly providers: ProviderName[];
  readonly precision: 'float32' | 'float16';
  /** The attention the UNet and VAE graphs are compiled with, for the first provider (attention-plan.ts). */
  readonly attention: AttentionPlan;
  readonly groupnorm: MotionGroupNormMode;
  readonly loraRank: number;
  /** The UNet's Linear and conv layers (quant-plan.ts). */
  readonly quant: QuantPlan;
  /** Where sessions run, for their memory estimate. */
  readonly target: MemoryTarget;
  /** Graphs compiled (not reused) since this set was made, for tests and `--json`. */
  readonly compiled: string[] = [];
  /** Where compile events go; generate() points it at the current job. */
  onCompile: ((e: CompileEvent) => void) | undefined;
  /** Where provider-fallback notes go. */
  onNote: ((message: string) => void) | undefined;
  readonly pool: SessionPool;
  private readonly compiler: GraphCompiler;
  private readonly lora: LoraFeeds;
  private readonly resident: ResidentFeeds;
  /** Host↔device bytes per component since the set was made (uploads included; zero on the CPU). */
  private readonly moved = new Map<Component, DeviceTransfers>();
  /** The checkpoint's own VAE, restored when an override is removed. */
  private readonly baseVae: { weights: WeightSet; identity: unknown };
  private vaeOverride: (VaeOverride & { id: string }) | undefined;
  private embeddings: { vocab: EmbeddingVocab; rows: HostTensor } | undefined;

  constructor(
    readonly source: ModelSource,
    private readonly opts: ModelSetOptions,
  ) {
    this.providers = opts.providers && opts.providers.length > 0 ? opts.providers : ['cpu'];
    this.precision = opts.precision ?? (this.providers[0] === 'cpu' ? 'float32' : 'float16');
    this.groupnorm = opts.groupnorm ?? 'per_frame';
    this.loraRank = Math.max(0, Math.floor(opts.loraRank ?? DEFAULT_LORA_RANK));
    this.attention = attentionPlanFor(this.providers[0]);
    this.quant = opts.quant ?? 'float';
    if (this.quant === 'int8' && (this.providers.some((p) => p !== 'cpu') || this.precision !== 'float32')) {
      // onnxruntime's int8 products are CPU kernels: on a GPU provider they would run on the CPU, with copies.
      throw new StudioError('INVALID_PARAMS', 'int8 is a CPU precision: it runs with the CPU provider and fp32 graphs only.');
    }
    this.compiler = new GraphCompiler(opts.cacheRoot, source, { precision: this.precision, groupnorm: this.groupnorm, loraRank: this.loraRank, attention: this.attention, trig: trigPlanFor(this.providers[0]), norm: normPlanFor(this.providers[0]), quant: this.quant, conv: convPlanFor(this.providers[0]) }, opts.intraOpThreads);
    this.target = { precision: this.precision, gpu: this.providers[0] !== 'cpu', quant: this.quant, conv: convPlanFor(this.providers[0]) };
    // Two UNet sessions (another shape, or the base beside a merged LoRA graph) are two copies of its weights: a GPU
    // cannot hold that at full size. On the CPU the budget decides (switching back to a kept session is instant).
    const oneUNet = opts.oneUNet ?? this.target.gpu;
    this.pool = new SessionPool({
      budgetBytes: opts.sessionBudgetBytes,
      exclusive: oneUNet ? (a, b) => a.shape.component === 'unet' && b.shape.component === 'unet' : undefined,
    });
    this.lora = new LoraFeeds(source, this.loraRank, this.precision);
    this.resident = new ResidentFeeds(opts.residentFeeds ?? true);
    this.baseVae = { weights: source.weights.vae, identity: source.identity.vae };
    this.setLoras(source.loras ?? []);
  }

  /** Counters for tests and benches: sessions opened (including reopened after eviction), stack switches. */
  get stats(): { sessionsCreated: number; loraSwitches: number } {
    return { sessionsCreated: this.pool.stats.opened, loraSwitches: this.lora.switches };
  }

  /**
   * Switches the LoRA stack of the loaded model (order = application order, AnimateLCM's LoRA first). Reads
   * only the LoRA files; slot-compatible deltas become feeds for the next UNet / text-encoder run (no compile,
   * no session, no base weight read); the rest is merged into an overlay of the touched tensors (keyed by that
   * rest alone), opened as one new session on next use. Throws FILE_NOT_FOUND / LORA_INCOMPATIBLE (family,
   * unreadable file) and leaves the previous stack in place then.
   */
  /**
   * Constant feeds kept on the GPU (true) or copied on every run (false), from the next clip on: the same loaded
   * sessions measured both ways (bench `gpu`, tests) instead of two model sets compiling their shaders twice.
   */
  setResidentFeeds(on: boolean): void {
    this.resident.setEnabled(on);
  }

  setLoras(loras: readonly LoraSpec[]): LoraSwitch {
    const { switch: sw, retired, changed } = this.lora.set(loras);
    // A new stack's slot feeds upload on their first run; the old ones leave the device now.
    if (changed) this.resident.releaseStack();
    // A merged session of a stack no longer in use holds its own copy of the component's weights: close it.
    if (retired.length > 0) {
      void this.pool.close((id) => retired.some((r) => r.component === id.shape.component && r.mergedKey === id.mergedKey));
    }
    return sw;
  }

  /**
   * Replaces the checkpoint's VAE by a standalone VAE file (undefined = the checkpoint's own again). Only the VAE
   * decoder's sessions close; its graphs compile into their own cache entry (keyed by the file), and the UNet and
   * text encoder stay loaded. Throws the typed errors of `openVaeOverride` and keeps the current VAE then.
   */
  setVae(path: string | undefined): void {
    const id = path === undefined ? undefined : existsSync(path) ? fileIdentity(path) : path;
    if (id === this.vaeOverride?.id) return;
    // openVaeOverride says what is wrong with a missing, corrupt or foreign file (typed errors).
    const next = path === undefined || id === undefined ? undefined : { ...openVaeOverride(path, { weights: this.baseVae.weights, config: this.source.configs.vae }), id };
    this.vaeOverride?.close();
    this.vaeOverride = next;
    this.source.weights.vae = next ? next.weights : this.baseVae.weights;
    this.source.identity.vae = next ? { vae: next.id } : this.baseVae.identity;
    void this.pool.close((g) => g.shape.component === 'vae');
  }

  /** The VAE file in use instead of the checkpoint's, if any. */
  get vaePath(): string | undefined {
    return this.vaeOverride?.path;
  }

  /**
   * The textual-inversion embeddings prompts may use (undefined or empty = none). Their vectors are fed to the
   * text encoder as extra token-table rows, so changing them compiles nothing beyond the first use of the
   * `_ti` text-encoder graph.
   */
  setEmbeddings(vocab: EmbeddingVocab | undefined): void {
    if (!vocab || vocab.size === 0) {
      this.embeddings = undefined;
      return;
    }
    const H = this.source.configs.text_encoder.hidden_size;
    const data = vocab.rows(H);
    const dims = [data.length / H, H];
    this.embeddings = { vocab, rows: this.precision === 'float16' ? { type: 'float16', dims, data: f32ToF16(data) } : { type: 'float32', dims, data } };
  }

  /** Coverage of the current stack, one report per LoRA. */
  get loraReports(): LoraReport[] {
    return this.lora.current.reports;
  }

  /** What the last `setLoras` did. */
  get loraSwitch(): LoraSwitch {
    return this.lora.current;
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
      unet: (sample, timestep, context, shape, extras) => this.unet(sample, timestep, context, shape, signal, extras),
      decode: (latents, h, w) => this.decode(latents, h, w, signal),
      encodePixels: (pixels, height, width) => this.encodePixels(pixels, height, width, signal),
      imageFeatures: this.source.weights.img_encoder ? (latent, shape, motionScale) => this.imageFeatures(latent, shape, motionScale, signal) : undefined,
      endClip: (completed) => this.endClip(completed),
    };
  }

  /**
   * A clip ended: its GPU-resident context is released; after a cancel or a failure everything resident is
   * (the next job uploads the LoRA feeds again — after a failure the device may not hold them any more).
   */
  endClip(completed: boolean): void {
    if (completed) this.resident.releaseClip();
    else this.resident.release();
  }

  /** Host↔device bytes of a component's runs so far (uploads included; zero on the CPU), for the gpu bench. */
  transfers(component: Component): DeviceTransfers {
    return { ...(this.moved.get(component) ?? { runs: 0, hostToDevice: 0, deviceToHost: 0 }) };
  }

  /** VAE encoder: pixels [1, 3, H, W] in [-1, 1] → moments [1, 2·latent, H/s, W/s] (mean | logvar). */
  async encodePixels(pixels: Float32Array, height: number, width: number, signal?: AbortSignal): Promise<Float32Array> {
    const out = await this.run({ component: 'vae_encoder', height, width }, signal, (s) => s.run({ image: f32Tensor(pixels, [1, 3, height, width]) }));
    return out.moments.data as Float32Array;
  }

  /**
   * AnimateLCM-I2V image encoder: one image latent [1, C, h, w] (already ×0.18215) → its features per UNet level,
   * [F, C_i, h_i, w_i] each, for `shape.frames` frames at `motionScale`. Run once per clip.
   */
  async imageFeatures(latent: Float32Array, shape: { frames: number; latentHeight: number; latentWidth: number }, motionScale: number, signal?: AbortSignal): Promise<ImageFeatures> {
    const levels = this.source.configs.unet.block_out_channels.length;
    const { frames, latentHeight, latentWidth } = shape;
    const out = await this.run({ component: 'img_encoder', batch: 1, frames, latentHeight, latentWidth }, signal, (s) =>
      s.run({
        img_latent: f32Tensor(latent, [1, this.source.configs.unet.in_channels, latentHeight, latentWidth]),
        motion_scale: f32Tensor(Float32Array.of(motionScale), [1]),
        insertion_weights: f32Tensor(new Float32Array(levels).fill(1), [levels]),
      }),
    );
    return imageFeatureLevels(this.source.configs.unet).map((i) => {
      const t = out[imageFeatureName(i)];
      return { name: imageFeatureName(i), data: t.data as Float32Array, dims: t.dims };
    });
  }

  async encodeText(ids: readonly number[], clipSkip: number, signal?: AbortSignal): Promise<Float32Array> {
    const S = ids.length;
    // Only a prompt that really uses an embedding runs the graph with the extended token table.
    const ti = this.embeddings && ids.some((id) => id >= this.embeddings!.vocab.vocabSize) ? this.embeddings : undefined;
    if (!ti && ids.some((id) => id >= this.source.configs.text_encoder.vocab_size)) {
      throw new StudioError('INVALID_PARAMS', 'The prompt uses an embedding that is not loaded.', { ids: ids.filter((id) => id >= this.source.configs.text_encoder.vocab_size).slice(0, 5) });
    }
    const shape = ti ? { ...textEncoderShape(S, clipSkip), extraTokens: true } : textEncoderShape(S, clipSkip);
    const out = await this.run(shape, signal, (s, feeds) =>
      s.run(
        { input_ids: { type: 'int64', dims: [1, S], data: BigInt64Array.from(ids, (v) => BigInt(v)) }, ...feeds, ...(ti ? { extra_token_embeddings: ti.rows } : {}) },
        { outputs: [clipSkip === 1 ? 'last_hidden_state' : clipSkip === 2 ? 'penultimate_normed' : 'clip_skip_normed'] },
      ),
    );
    return Object.values(out)[0].data as Float32Array;
  }

  async unet(sample: Float32Array, timestep: number, context: Float32Array, shape: UNetCallShape, signal?: AbortSignal, extras?: UNetExtras): Promise<Float32Array> {
    const { batch, frames, latentHeight, latentWidth, tokens } = shape;
    const c = this.source.configs;
    const N = batch * frames;
    const img = extras?.imageFeatures;
    const control = extras?.control;
    // Windows that would be one window of every frame are the plain graph (no second compile of the same thing).
    const windows = shape.windows && windowFusionPlan(frames, shape.windows) ? { windows: shape.windows } : {};
    const chunks = shape.chunkRows !== undefined ? { chunkRows: shape.chunkRows } : {};
    const graphShape: GraphShape = {
      component: 'unet', batch, frames, latentHeight, latentWidth, tokens,
      ...(img ? { imageFeatures: true as const } : {}),
      ...(control ? { control: true as const } : {}),
      ...windows,
      ...chunks,
    };
    const controlFeeds = control ? residualFeeds(control, c.unet, N, latentHeight, latentWidth) : {};
    // One image per clip: with CFG both halves of the batch get the same features (AnimateLCM duplicates the latent).
    const imgFeeds = img ? Object.fromEntries(img.map((f) => [f.name, f32Tensor(repeatBatch(f.data, batch), [N, ...f.dims.slice(1)])])) : {};
    const out = await this.run(graphShape, signal, async (s, feeds) =>
      s.run({
        sample: f32Tensor(sample, [N, c.unet.in_channels, latentHeight, latentWidth]),
        timestep: f32Tensor(Float32Array.of(timestep), [1]),
        // The same context every step of a clip: on a GPU it is uploaded once (resident-feeds.ts).
        encoder_hidden_states: await this.resident.context(s, 'encoder_hidden_states', f32Tensor(context, [N, tokens, c.text_encoder.hidden_size])),
        // The stack's slot feeds go with every UNet run (zeros when the stack is empty), on a GPU already there.
        ...feeds,
        ...controlFeeds,
        ...imgFeeds,
      }),
    );
    return out.noise_pred.data as Float32Array;
  }

  async decode(latents: Float32Array, h: number, w: number, signal?: AbortSignal): Promise<Float32Array> {
    const out = await this.run({ component: 'vae', latentHeight: h, latentWidth: w }, signal, (s) =>
      s.run({ latents: f32Tensor(latents, [1, this.source.configs.vae.latent_channels, h, w]) }),
    );
    return out.image.data as Float32Array;
  }

  async dispose(): Promise<void> {
    this.resident.release();
    this.vaeOverride?.close();
    await this.compiler.dispose();
    await this.pool.dispose();
    this.source.close();
  }

  /**
   * Runs the graph of `shape` on the current LoRA stack: the component's merged part (if any) picks the graph,
   * its slot feeds go with the run.
   */
  private run<T>(shape: GraphShape, signal: AbortSignal | undefined, call: (s: EngineSession, loraFeeds: Record<string, Feed>) => Promise<T>): Promise<T> {
    const component = shape.component;
    const lora = isLoraComponent(component) ? this.lora.of(component) : undefined;
    const id: GraphId = lora?.plan.mergedKey ? { shape, mergedKey: lora.plan.mergedKey } : { shape };
    return this.pool.with(
      id,
      this.sessionBytes(shape),
      () => this.open(id, lora?.plan),
      async (s) => {
        // A first-use compile can take long: an abort during it stops before the model runs.
        if (signal?.aborted) throw new StudioError('CANCELLED', 'Generation cancelled.');
        const before = { ...s.transfers };
        try {
          return await call(s, lora ? await this.resident.loraFeeds(s, component, lora.feeds) : {});
        } catch (e) {
          // A failed run may have lost the device and everything on it: nothing resident is trusted afterwards.
          this.resident.release();
          throw e;
        } finally {
          this.count(component, before, s.transfers);
        }
      },
    );
  }

  private count(component: Component, before: DeviceTransfers, after: Readonly<DeviceTransfers>): void {
    const m = this.moved.get(component) ?? { runs: 0, hostToDevice: 0, deviceToHost: 0 };
    m.runs += after.runs - before.runs;
    m.hostToDevice += after.hostToDevice - before.hostToDevice;
    m.deviceToHost += after.deviceToHost - before.deviceToHost;
    this.moved.set(component, m);
  }

  /** What the pool counts a session of `shape` at: the same estimate the job guard uses. */
  private sessionBytes(shape: GraphShape): number {
    const m = sessionMemory(this.source, shape, this.target);
    return this.target.gpu ? m.device : m.host;
  }

  /** Compiles (on a cache miss) and opens the graph `id`; `plan` is the LoRA plan that chose it. */
  private async open(id: GraphId, plan: RuntimeStackPlan | undefined): Promise<EngineSession> {
    const t0 = performance.now();
    const component: Component = id.shape.component;
    const name = graphName(id);
    const label = COMPONENT_LABEL[component];
    const what = this.source.isStarter ? `${label} of the starter test model` : label;
    const withMerged = id.mergedKey && plan ? ` with the merged LoRA part (${plan.mergedWhy.join('; ')})` : '';
    const emit = (phase: 'start' | 'done', reused: boolean, message: string): void =>
      this.onCompile?.({ component, graph: name, phase, reused, elapsedMs: performance.now() - t0, message });
    const { path, reused } = await this.compiler.compile(id, plan, {
      onMiss: () => emit('start', false, `Compiling the ${what}${withMerged} for this shape (first use; cached afterwards)…`),
      onNote: (m) => this.onNote?.(m),
    });
    if (!reused) this.compiled.push(name);
    const session = await createSession(path, { providers: this.providers, intraOpThreads: this.opts.intraOpThreads, onFallback: (m) => this.onNote?.(m) });
    emit('done', reused, reused ? `Loaded the compiled ${what}${withMerged} from the cache.` : `Compiled the ${what}${withMerged}.`);
    return session;
  }
}

/** ControlNet residuals as the controlled UNet graph's `down_residual_i` / `mid_residual` inputs. */
function residualFeeds(r: ControlResiduals, cfg: UNetConfig, rows: number, h: number, w: number): Record<string, HostTensor> {
  const shapes = controlResidualShapes(cfg, rows, h, w);
  if (shapes.down.length !== r.down.length) {
    throw new StudioError('MODEL_SHAPE_MISMATCH', `The ControlNet gives ${r.down.length} residuals but this UNet has ${shapes.down.length} skip features: it was made for another base model.`);
  }
  const feeds: Record<string, HostTensor> = { mid_residual: f32Tensor(r.mid, shapes.mid) };
  r.down.forEach((d, i) => (feeds[`down_residual_${i}`] = f32Tensor(d, shapes.down[i])));
  return feeds;
}

function repeatBatch(x: Float32Array, times: number): Float32Array {
  if (times === 1) return x;
  const out = new Float32Array(x.length * times);
  for (let i = 0; i < times; i++) out.set(x, i * x.length);
  return out;
}
