import { attentionLabel, attentionPlanFor, type AttentionPlan } from '../src/main/compiler/graph/attention-plan';
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
import { buildVaeDecoderGraph } from '../src/main/compiler/families/vae';
import type { GraphIR } from '../src/main/compiler/graph/builder';
import type { TensorView, WeightSet } from '../src/main/compiler/io/tensor';
import type { PipelineModels, UNetCallShape } from '../src/main/engine/pipelines/pipeline-models';
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
}

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
  return `unet_motion_b${s.batch}_f${s.frames}_${s.latentHeight}x${s.latentWidth}_t${s.tokens}${w}`;
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
    /** Provider and precision the graphs are compiled for and run on (the gpu suite; default CPU fp32). */
    readonly target: { provider: ProviderName; precision: 'float32' | 'float16' } = { provider: 'cpu', precision: 'float32' },
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
      motion: { w: this.source.motion, cfg: c.motion, frames: s.frames, groupnorm: 'per_frame', windows: s.windows && windowFusionPlan(s.frames, s.windows) },
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

  /** Compiles the UNet + motion weights file with a graph for `s` (or adds a graph for `s` to the existing entry). */
  async compileUNet(s: UNetShape): Promise<CompileTiming> {
    const name = shapeName(s);
    let buildMs = 0;
    const t0 = performance.now();
    if (!this.unetEntry) {
      const { entry, models } = await compileGraphs(
        this.cache,
        { family: 'unet_motion', config: this.source.configs, weights: [`random:${this.source.label}`], ...this.keyOf(), options: { groupnorm: 'per_frame', ...this.keyOf().options } },
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
    return this.session(`vae_decoder_${h}x${w}`, async () => {
      const { models } = await compileGraphs(
        this.cache,
        { family: 'vae_decoder', config: this.source.configs.vae, weights: [`random:${this.source.label}`], ...this.keyOf(), shape: { h, w } },
        () => [buildVaeDecoderGraph(this.source.vae, this.source.configs.vae, { batch: 1, latentHeight: h, latentWidth: w, ...this.graphOptions() })],
      );
      return Object.values(models)[0];
    });
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

  async unet(sample: Float32Array, timestep: number, context: Float32Array, shape: UNetCallShape): Promise<Float32Array> {
    const s = await this.unetSession(shape);
    const n = shape.batch * shape.frames;
    const t0 = performance.now();
    const out = await this.run(
      s,
      {
        sample: f32Tensor(sample, [n, this.latentChannels, shape.latentHeight, shape.latentWidth]),
        timestep: f32Tensor(Float32Array.of(timestep), [1]),
        encoder_hidden_states: f32Tensor(context, [n, shape.tokens, this.contextDim]),
      },
      'noise_pred',
    );
    this.unetCalls.push({ shape: { ...shape }, ms: performance.now() - t0 });
    return out;
  }

  async decode(latents: Float32Array, latentHeight: number, latentWidth: number): Promise<Float32Array> {
    const s = await this.vaeSession(latentHeight, latentWidth);
    return this.run(s, { latents: f32Tensor(latents, [1, this.latentChannels, latentHeight, latentWidth]) }, 'image');
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
