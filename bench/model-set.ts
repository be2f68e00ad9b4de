import { attentionLabel, attentionPlanFor, type AttentionPlan } from '../src/main/compiler/graph/attention-plan';
import { chunkPlanOfRows } from '../src/main/compiler/graph/sample-chunks';
import type { QuantPlan } from '../src/main/compiler/graph/quant-plan';
import { convPlanFor, type ConvPlan } from '../src/main/compiler/graph/conv-plan';
import type { ProviderName } from '../src/shared/domain/generation';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CompileCache, type CacheEntry } from '../src/main/compiler/cache';
import { addGraph, compileGraphs, WEIGHTS_FILE } from '../src/main/compiler/compile';
import { buildClipTextGraph } from '../src/main/compiler/families/clip-text';
import type { ClipTextConfig, MotionConfig, UNetConfig, VaeConfig } from '../src/main/compiler/families/configs';
import { clipTextParameterShapes, motionParameterShapes, unetParameterShapes, vaeParameterShapes, type ShapeMap } from '../src/main/compiler/families/parameter-shapes';
import { buildUNetGraph } from '../src/main/compiler/families/unet';
import { windowFusionPlan, type ContextWindowSpec } from '../src/main/compiler/families/context-windows';
import { buildImageEncoderGraph, imageEncoderParameterShapes, imageFeatureName } from '../src/main/compiler/families/image-encoder';
import { imageFeatureLevels } from '../src/main/compiler/families/unet';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../src/main/compiler/families/vae';
import type { GraphIR } from '../src/main/compiler/graph/builder';
import type { TensorView, WeightSet } from '../src/main/compiler/io/tensor';
import type { ImageFeatures, PipelineModels, UNetCallShape, UNetExtras } from '../src/main/engine/pipelines/pipeline-models';
import { createSession, f32Tensor, i64Tensor, type EngineSession, type HostTensor, type SessionOptions } from '../src/main/engine/runtime/session';
import { randomWeights } from '../src/main/engine/starter/starter-model';

/**
 * The models a bench suite runs, compiled into a scratch folder and bound to the pipeline's PipelineModels
 * interface, with the accounting the targets need: time spent inside onnxruntime (every session.run) and
 * every UNet call's duration. Weights are random with exactly the real parameter shapes (parameter-shapes.ts
 * reproduces the full-size manifests), generated on demand: for full SD1.5 the UNet + motion weights are
 * 1.3 G floats, so they are streamed tensor by tensor into the weights file and never all held in memory.
 */

export interface ModelConfigs {
  unet: UNetConfig;
  motion: MotionConfig;
  vae: VaeConfig;
  text: ClipTextConfig;
}

export interface ModelSource {
  label: string;
  configs: ModelConfigs;
  unet: WeightSet;
  motion: WeightSet;
  vae: WeightSet;
  text: WeightSet;
  /** AnimateLCM-I2V's image encoder (image-to-video); absent = the model cannot run I2V. */
  imgEncoder?: WeightSet;
}

/** AnimateLCM-I2V's Adapter: ResnetBlocks per UNet level (nums_rb=2 in the authors' unet.py). */
const IMG_ENCODER_BLOCKS_PER_LEVEL = 2;

/**
 * The starter model's deterministic random weights, but regenerated on every read instead of cached:
 * a MemoryWeights made by randomWeights() keeps every tensor it has produced, which at full size would pin
 * 5 GB in the bench process and spoil its memory figures. Same values (same name-derived seeds).
 */
export function streamingRandomWeights(shapes: ShapeMap, component: string): WeightSet {
  const views = new Map<string, TensorView>();
  for (const [name, shape] of shapes) {
    const read = (): Float32Array => randomWeights(new Map([[name, shape]]), component).get(name)!.readF32();
    views.set(name, {
      name,
      dtype: 'F32',
      shape,
      readF32: read,
      readRaw: () => {
        const f = read();
        return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      },
    });
  }
  return { names: () => [...views.keys()], get: (n) => views.get(n), has: (n) => views.has(n) };
}

export function randomModelSource(label: string, configs: ModelConfigs): ModelSource {
  return {
    label,
    configs,
    unet: streamingRandomWeights(unetParameterShapes(configs.unet), 'unet'),
    motion: streamingRandomWeights(motionParameterShapes(configs.motion), 'motion'),
    vae: streamingRandomWeights(vaeParameterShapes(configs.vae), 'vae'),
    text: streamingRandomWeights(clipTextParameterShapes(configs.text), 'text_encoder'),
    // Adapter(cin=4, channels=UNet block_out_channels, nums_rb=2): at SD1.5 size the real 76.8 M-parameter encoder.
    imgEncoder: streamingRandomWeights(imageEncoderParameterShapes(configs.unet.in_channels, configs.unet.block_out_channels, IMG_ENCODER_BLOCKS_PER_LEVEL), 'img_encoder'),
  };
}

export interface UNetShape {
  batch: number;
  frames: number;
  latentHeight: number;
  latentWidth: number;
  tokens: number;
  /** FreeNoise context windows in the motion modules (the long-clip suite). */
  windows?: ContextWindowSpec;
  /** The I2V graph: AnimateLCM-I2V's image features are inputs added after each down block's second layer. */
  imageFeatures?: boolean;
  /**
   * Spatial layers as Scans over sample groups of at most this many rows (graph/sample-chunks.ts, the engine's
   * CPU memory plan uses 4096); absent = every sample at once (the figures measured before the plan existed).
   */
  chunkRows?: number;
}

export interface CompileTiming {
  /** Graph construction in JS (no weight bytes). */
  buildMs: number;
  /** Weights file + graph file + manifest written (weights generated on the fly while writing). */
  writeMs: number;
  weightsBytes: number;
  graphBytes: number;
  reused: boolean;
}

export interface SessionTiming {
  createMs: number;
}

function shapeName(s: UNetShape): string {
  const w = s.windows ? `_ctx${s.windows.length}s${s.windows.stride}${s.windows.weighting}-${s.windows.mode}` : '';
  return `unet_motion_b${s.batch}_f${s.frames}_${s.latentHeight}x${s.latentWidth}_t${s.tokens}${w}${s.imageFeatures ? '_img' : ''}${s.chunkRows ? `_rows${s.chunkRows}` : ''}`;
}

export interface BenchTarget {
  provider: ProviderName;
  precision: 'float32' | 'float16';
  /** The UNet's int8 plan (Linear and conv layers); absent = 'float'. Only the UNet + motion graph changes. */
  quant?: QuantPlan;
  /** The UNet's and the VAE's 3×3 convolutions (graph/conv-plan.ts); absent = the provider's plan, as the studio compiles it. */
  conv?: ConvPlan;
}

export class BenchModels implements PipelineModels {
  readonly latentChannels: number;
  readonly vaeScaleFactor: number;
  readonly vaeScalingFactor: number;
  readonly contextDim: number;
  readonly maxFrames: number;

  /** Milliseconds inside session.run, all sessions. */
  ortMs = 0;
  /** Every UNet call, in order. */
  readonly unetCalls: Array<{ shape: UNetShape; ms: number }> = [];
  readonly sessionTimings = new Map<string, SessionTiming>();

  private readonly cache: CompileCache;
  private unetEntry?: CacheEntry;
  private readonly unetModels = new Map<string, string>();
  private readonly sessions = new Map<string, EngineSession>();

  constructor(
    readonly source: ModelSource,
    readonly root: string,
    /**
     * Provider and precision the graphs are compiled for and run on (the gpu suite; default CPU fp32), and how the
     * UNet's Linear and conv layers multiply (the precision suite's labelled int8 plan, graph/quant-plan.ts; default float).
     */
    readonly target: BenchTarget = { provider: 'cpu', precision: 'float32' },
  ) {
    this.cache = new CompileCache(root);
    const c = source.configs;
    this.latentChannels = c.unet.in_channels;
    this.vaeScaleFactor = 2 ** (c.vae.block_out_channels.length - 1);
    this.vaeScalingFactor = c.vae.scaling_factor;
    this.contextDim = c.text.hidden_size;
    this.maxFrames = c.motion.motion_max_seq_length;
  }

  private unetGraph(s: UNetShape): GraphIR {
    const c = this.source.configs;
    return buildUNetGraph(this.source.unet, c.unet, {
      batch: s.batch,
      latentHeight: s.latentHeight,
      latentWidth: s.latentWidth,
      contextLength: s.tokens,
      name: shapeName(s),
      ...this.graphOptions(),
      quant: this.target.quant,
      conv: this.convPlan(),
      motion: { w: this.source.motion, cfg: c.motion, frames: s.frames, groupnorm: 'per_frame', windows: s.windows && windowFusionPlan(s.frames, s.windows) },
      imageFeatures: s.imageFeatures,
      sampleChunks: chunkPlanOfRows(s.chunkRows),
    });
  }

  private graphOptions(): { floatType: 'float32' | 'float16'; attention: AttentionPlan } {
    return { floatType: this.target.precision, attention: attentionPlanFor(this.target.provider) };
  }

  /** Cache-key fields the target adds (none on the CPU in fp32, so existing bench caches stay valid). */
  private keyOf(): { precision: 'float32' | 'float16'; options?: Record<string, string> } {
    const a = attentionPlanFor(this.target.provider);
    return { precision: this.target.precision, ...(a.kind === 'fused' ? {} : { options: { attention: attentionLabel(a) } }) };
  }

  /**
   * The UNet key's quant field: int8 weights are another weights file, so the int8 entry must never be found under
   * fp32's key (nor the reverse); fp32 adds nothing, so existing bench caches stay valid. Text encoder and VAE keys
   * do not take it: both instances over one cache root share those entries. The conv field likewise (Winograd
   * kernels are other bytes); the VAE keys take that one too (vaeKeyOf).
   */
  private quantKey(): { quant?: QuantPlan; conv?: ConvPlan } {
    return { ...(this.target.quant && this.target.quant !== 'float' ? { quant: this.target.quant } : {}), ...(this.convPlan() === 'winograd' ? { conv: 'winograd' as const } : {}) };
  }

  /** The VAE keys: the target's fields, and the conv plan when it is winograd (direct keeps the keys caches had). */
  private vaeKeyOf(): { precision: 'float32' | 'float16'; options?: Record<string, string> } {
    const k = this.keyOf();
    return this.convPlan() === 'winograd' ? { ...k, options: { ...k.options, conv: 'winograd' } } : k;
  }

  /** The UNet's and the VAE's conv plan: the target's, else the provider's (the studio's choice, model-set.ts). */
  convPlan(): ConvPlan {
    return this.target.conv ?? convPlanFor(this.target.provider);
  }

  /** Compiles the UNet + motion weights file with a graph for `s` (or adds a graph for `s` to the existing entry). */
  async compileUNet(s: UNetShape): Promise<CompileTiming> {
    const name = shapeName(s);
    let buildMs = 0;
    const t0 = performance.now();
    if (!this.unetEntry) {
      const { entry, models } = await compileGraphs(
        this.cache,
        { family: 'unet_motion', config: this.source.configs, weights: [`random:${this.source.label}`], ...this.keyOf(), options: { groupnorm: 'per_frame', ...this.keyOf().options, ...this.quantKey() } },
        () => {
          const tb = performance.now();
          const g = this.unetGraph(s);
          buildMs = performance.now() - tb;
          return [g];
        },
      );
      this.unetEntry = entry;
      this.unetModels.set(name, models[name]);
    } else if (!this.unetModels.has(name)) {
      const tb = performance.now();
      const g = this.unetGraph(s);
      buildMs = performance.now() - tb;
      this.unetModels.set(name, await addGraph(this.cache, this.unetEntry, g));
    }
    const totalMs = performance.now() - t0;
    return {
      buildMs,
      writeMs: totalMs - buildMs,
      weightsBytes: statSync(join(this.unetEntry.dir, WEIGHTS_FILE)).size,
      graphBytes: statSync(this.unetModels.get(name)!).size,
      reused: this.unetEntry.reused,
    };
  }

  /** The compiled graph file for `s` (after compileUNet). */
  unetModelPath(s: UNetShape): string {
    const p = this.unetModels.get(shapeName(s));
    if (!p) throw new Error(`bench models: no UNet graph compiled for ${shapeName(s)}`);
    return p;
  }

  /** Session options for the next sessions this set creates (the profile suite turns the profiler on). */
  sessionOptions: Omit<SessionOptions, 'providers'> = {};

  private async session(key: string, path: () => Promise<string>): Promise<EngineSession> {
    let s = this.sessions.get(key);
    if (!s) {
      const p = await path();
      const t0 = performance.now();
      s = await createSession(p, { ...this.sessionOptions, providers: [this.target.provider] });
      this.sessionTimings.set(key, { createMs: performance.now() - t0 });
      this.sessions.set(key, s);
    }
    return s;
  }

  async unetSession(s: UNetShape): Promise<EngineSession> {
    return this.session(shapeName(s), async () => {
      await this.compileUNet(s);
      return this.unetModels.get(shapeName(s))!;
    });
  }

  private async textSession(): Promise<EngineSession> {
    return this.session('text_encoder', async () => {
      const { models } = await compileGraphs(
        this.cache,
        { family: 'clip_text', config: this.source.configs.text, weights: [`random:${this.source.label}`], precision: this.target.precision },
        () => [buildClipTextGraph(this.source.text, this.source.configs.text, { batch: 1, floatType: this.target.precision })],
      );
      return Object.values(models)[0];
    });
  }

  private async vaeSession(h: number, w: number): Promise<EngineSession> {
    return this.session(`vae_decoder_${h}x${w}`, () => this.compileVae(h, w));
  }

  /** Compiles the VAE decoder of latent size h × w (one cache entry per size); returns its graph file. */
  async compileVae(h: number, w: number): Promise<string> {
    const { models } = await compileGraphs(
      this.cache,
      { family: 'vae_decoder', config: this.source.configs.vae, weights: [`random:${this.source.label}`], ...this.vaeKeyOf(), shape: { h, w } },
      () => [buildVaeDecoderGraph(this.source.vae, this.source.configs.vae, { batch: 1, latentHeight: h, latentWidth: w, ...this.graphOptions(), conv: this.convPlan() })],
    );
    return Object.values(models)[0];
  }

  /** Loads every session a generation of this shape needs, so a timed generation starts warm. */
  async prepare(s: UNetShape): Promise<void> {
    await this.textSession();
    await this.unetSession(s);
    await this.vaeSession(s.latentHeight, s.latentWidth);
  }

  private async run(s: EngineSession, feeds: Record<string, HostTensor>, output: string): Promise<Float32Array> {
    const t0 = performance.now();
    const out = await s.run(feeds, { outputs: [output] });
    this.ortMs += performance.now() - t0;
    return out[output].data as Float32Array;
  }

  async encodeText(ids: readonly number[], clipSkip: number): Promise<Float32Array> {
    const s = await this.textSession();
    const out = clipSkip <= 1 ? 'last_hidden_state' : 'penultimate_normed';
    if (clipSkip > 2) throw new Error('bench models: CLIP skip above 2 is not compiled');
    return this.run(s, { input_ids: i64Tensor(BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]) }, out);
  }

  async unet(sample: Float32Array, timestep: number, context: Float32Array, callShape: UNetCallShape, extras?: UNetExtras): Promise<Float32Array> {
    const img = extras?.imageFeatures;
    const shape: UNetShape = img ? { ...callShape, imageFeatures: true } : callShape;
    const s = await this.unetSession(shape);
    const n = shape.batch * shape.frames;
    // One image per clip: with CFG both halves get the same features (as the studio's ModelSet feeds them).
    const imgFeeds = img ? Object.fromEntries(img.map((f) => [f.name, f32Tensor(repeatBatch(f.data, shape.batch), [n, ...f.dims.slice(1)])])) : {};
    const t0 = performance.now();
    const out = await this.run(
      s,
      {
        sample: f32Tensor(sample, [n, this.latentChannels, shape.latentHeight, shape.latentWidth]),
        timestep: f32Tensor(Float32Array.of(timestep), [1]),
        encoder_hidden_states: f32Tensor(context, [n, shape.tokens, this.contextDim]),
        ...imgFeeds,
      },
      'noise_pred',
    );
    this.unetCalls.push({ shape: { ...shape }, ms: performance.now() - t0 });
    return out;
  }

  private async vaeEncoderSession(height: number, width: number): Promise<EngineSession> {
    return this.session(`vae_encoder_${height}x${width}`, async () => {
      const { models } = await compileGraphs(
        this.cache,
        { family: 'vae_encoder', config: this.source.configs.vae, weights: [`random:${this.source.label}`], ...this.vaeKeyOf(), shape: { height, width } },
        () => [buildVaeEncoderGraph(this.source.vae, this.source.configs.vae, { batch: 1, height, width, ...this.graphOptions(), conv: this.convPlan() })],
      );
      return Object.values(models)[0];
    });
  }

  /** VAE encoder: pixels [1, 3, H, W] in [-1, 1] → moments [1, 2·C, H/s, W/s]. */
  async encodePixels(pixels: Float32Array, height: number, width: number): Promise<Float32Array> {
    const s = await this.vaeEncoderSession(height, width);
    return this.run(s, { image: f32Tensor(pixels, [1, 3, height, width]) }, 'moments');
  }

  /** AnimateLCM-I2V's image encoder, once per clip: latent [1, C, h, w] → the UNet's per-level features. */
  async imageFeatures(latent: Float32Array, shape: { frames: number; latentHeight: number; latentWidth: number }, motionScale: number): Promise<ImageFeatures> {
    const enc = this.source.imgEncoder;
    if (!enc) throw new Error(`bench models: ${this.source.label} has no image encoder`);
    const { frames, latentHeight, latentWidth } = shape;
    const levels = this.source.configs.unet.block_out_channels.length;
    const s = await this.session(`img_encoder_f${frames}_${latentHeight}x${latentWidth}`, async () => {
      const { models } = await compileGraphs(
        this.cache,
        { family: 'animatelcm_i2v_img_encoder', config: { levels }, weights: [`random:${this.source.label}`], ...this.keyOf(), shape: { frames, latentHeight, latentWidth } },
        () => [buildImageEncoderGraph(enc, { batch: 1, frames, latentHeight, latentWidth, levels, floatType: this.target.precision })],
      );
      return Object.values(models)[0];
    });
    const names = imageFeatureLevels(this.source.configs.unet).map(imageFeatureName);
    const t0 = performance.now();
    const out = await s.run(
      {
        img_latent: f32Tensor(latent, [1, this.latentChannels, latentHeight, latentWidth]),
        motion_scale: f32Tensor(Float32Array.of(motionScale), [1]),
        insertion_weights: f32Tensor(new Float32Array(levels).fill(1), [levels]),
      },
      { outputs: names },
    );
    this.ortMs += performance.now() - t0;
    return names.map((name) => ({ name, data: out[name].data as Float32Array, dims: out[name].dims }));
  }

  async decode(latents: Float32Array, latentHeight: number, latentWidth: number): Promise<Float32Array> {
    const s = await this.vaeSession(latentHeight, latentWidth);
    return this.run(s, { latents: f32Tensor(latents, [1, this.latentChannels, latentHeight, latentWidth]) }, 'image');
  }

  /** Closes the VAE decoder session of one latent size (frees its arena and weights) without touching the compiled files. */
  async closeVae(latentHeight: number, latentWidth: number): Promise<void> {
    const key = `vae_decoder_${latentHeight}x${latentWidth}`;
    await this.sessions.get(key)?.dispose();
    this.sessions.delete(key);
  }

  /** Closes one UNet session (frees its arena) without touching the compiled files. */
  async closeUNet(s: UNetShape): Promise<void> {
    const key = shapeName(s);
    await this.sessions.get(key)?.dispose();
    this.sessions.delete(key);
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await s.dispose();
    this.sessions.clear();
  }
}

/** Deterministic pseudo-random inputs in [-1, 1) (latent noise stand-in; the cost does not depend on values). */
export function noiseArray(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = (x >>> 0) / 2147483648 - 1;
  }
  return a;
}

/** `times` copies of `x` one after another (the CFG batch of one video's features). */
function repeatBatch(x: Float32Array, times: number): Float32Array {
  if (times === 1) return x;
  const out = new Float32Array(x.length * times);
  for (let i = 0; i < times; i++) out.set(x, i * x.length);
  return out;
}
