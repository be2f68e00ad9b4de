import { StudioError } from '../../../shared/errors';
import type { MotionGroupNormMode, ProviderName } from '../../../shared/domain/generation';
import { CompileCache, type CacheKey } from '../../compiler/cache';
import { addGraph, compileGraphs } from '../../compiler/compile';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { buildUNetGraph } from '../../compiler/families/unet';
import { buildVaeDecoderGraph } from '../../compiler/families/vae';
import type { GraphIR } from '../../compiler/graph/builder';
import { createSession, f32Tensor, type EngineSession } from '../runtime/session';
import type { PipelineModels, UNetCallShape } from '../pipelines/pipeline-models';
import type { ModelSource } from './model-source';

/**
 * Binds PipelineModels to compiled ONNX sessions. Each component (text encoder, UNet + motion, VAE decoder) is
 * one compile-cache entry keyed WITHOUT the shape — config, weight identity (incl. the LoRA stack), precision,
 * GroupNorm mode — so its weights are written once; each shape the pipeline asks for (batch 1|2 for CFG,
 * frames, latent size, 77·k tokens, clip skip) is one small graph file added to that entry on first use.
 * Sessions stay open for the life of the set: a second generation with the same model, stack and shape
 * neither compiles nor reloads anything.
 */

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
}

const COMPONENT_LABEL: Record<Component, string> = { text_encoder: 'text encoder', unet: 'UNet + motion module', vae: 'VAE decoder' };

export class ModelSet {
  readonly providers: ProviderName[];
  readonly precision: 'float32' | 'float16';
  readonly groupnorm: MotionGroupNormMode;
  private readonly cache: CompileCache;
  private readonly sessions = new Map<string, Promise<EngineSession>>();
  /** Graphs compiled (not reused) since this set was made, for tests and `--json`. */
  readonly compiled: string[] = [];
  /** Where compile events go; generate() points it at the current job. */
  onCompile: ((e: CompileEvent) => void) | undefined;
  /** Where provider-fallback notes go. */
  onNote: ((message: string) => void) | undefined;

  constructor(
    readonly source: ModelSource,
    private readonly opts: ModelSetOptions,
  ) {
    this.providers = opts.providers && opts.providers.length > 0 ? opts.providers : ['cpu'];
    this.precision = opts.precision ?? (this.providers[0] === 'cpu' ? 'float32' : 'float16');
    this.groupnorm = opts.groupnorm ?? 'per_frame';
    this.cache = new CompileCache(opts.cacheRoot);
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
    const name = clipSkip <= 2 ? `clip_text_s${S}` : `clip_text_s${S}_skip${clipSkip}`;
    const s = await this.session('text_encoder', name, () =>
      renamed(buildClipTextGraph(this.source.weights.text_encoder, this.source.configs.text_encoder, { batch: 1, seqLen: S, floatType: this.precision, clipSkip: clipSkip > 2 ? clipSkip : undefined }), name),
    );
    checkAborted(signal);
    const out = await s.run(
      { input_ids: { type: 'int64', dims: [1, S], data: BigInt64Array.from(ids, (v) => BigInt(v)) } },
      { outputs: [clipSkip === 1 ? 'last_hidden_state' : clipSkip === 2 ? 'penultimate_normed' : 'clip_skip_normed'] },
    );
    return Object.values(out)[0].data as Float32Array;
  }

  async unet(sample: Float32Array, timestep: number, context: Float32Array, shape: UNetCallShape, signal?: AbortSignal): Promise<Float32Array> {
    const { batch, frames, latentHeight: h, latentWidth: w, tokens } = shape;
    const name = `unet_b${batch}_f${frames}_${h}x${w}_t${tokens}`;
    const src = this.source;
    const s = await this.session('unet', name, () =>
      buildUNetGraph(src.weights.unet, src.configs.unet, {
        batch,
        latentHeight: h,
        latentWidth: w,
        contextLength: tokens,
        floatType: this.precision,
        motion: { w: src.weights.motion, cfg: src.configs.motion, frames, groupnorm: this.groupnorm },
        name,
      }),
    );
    checkAborted(signal);
    const N = batch * frames;
    const out = await s.run({
      sample: f32Tensor(sample, [N, src.configs.unet.in_channels, h, w]),
      timestep: f32Tensor(Float32Array.of(timestep), [1]),
      encoder_hidden_states: f32Tensor(context, [N, tokens, src.configs.text_encoder.hidden_size]),
    });
    return out.noise_pred.data as Float32Array;
  }

  async decode(latents: Float32Array, h: number, w: number, signal?: AbortSignal): Promise<Float32Array> {
    const name = `vae_decoder_${h}x${w}`;
    const s = await this.session('vae', name, () =>
      renamed(buildVaeDecoderGraph(this.source.weights.vae, this.source.configs.vae, { batch: 1, latentHeight: h, latentWidth: w, floatType: this.precision }), name),
    );
    checkAborted(signal);
    const out = await s.run({ latents: f32Tensor(latents, [1, this.source.configs.vae.latent_channels, h, w]) });
    return out.image.data as Float32Array;
  }

  async dispose(): Promise<void> {
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

  private cacheKey(component: Component): CacheKey {
    const c = this.source.configs;
    const family = { text_encoder: 'clip_text', unet: 'unet_motion', vae: 'vae_decoder' }[component];
    const config = component === 'unet' ? { unet: c.unet, motion: c.motion } : component === 'vae' ? c.vae : c.text_encoder;
    return {
      family,
      config,
      weights: [JSON.stringify(this.source.identity[component])],
      precision: this.precision,
      options: component === 'unet' ? { groupnorm: this.groupnorm } : undefined,
    };
  }

  private session(component: Component, name: string, build: () => GraphIR): Promise<EngineSession> {
    let p = this.sessions.get(name);
    if (!p) {
      p = this.open(component, name, build);
      this.sessions.set(name, p);
      // A failed open must not poison later attempts.
      p.catch(() => this.sessions.delete(name));
    }
    return p;
  }

  private async open(component: Component, name: string, build: () => GraphIR): Promise<EngineSession> {
    const t0 = performance.now();
    const label = COMPONENT_LABEL[component];
    const what = this.source.isStarter ? `${label} of the starter test model` : label;
    const emit = (phase: 'start' | 'done', reused: boolean, message: string): void =>
      this.onCompile?.({ component, graph: name, phase, reused, elapsedMs: performance.now() - t0, message });
    const key = this.cacheKey(component);
    let path: string;
    let reused = true;
    try {
      const hit = this.cache.lookup(key);
      const listed = hit && hit.manifest.files[`${name}.onnx`] !== undefined;
      if (!listed) {
        reused = false;
        emit('start', false, `Compiling the ${what} for this shape (first use; cached afterwards)…`);
      }
      const { entry, models } = await compileGraphs(this.cache, key, () => [build()]);
      path = models[name] ?? (await addGraph(this.cache, entry, build()));
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw new StudioError('COMPILE_FAILED', `Compiling the ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { component, graph: name });
    }
    if (!reused) this.compiled.push(name);
    const session = await createSession(path, { providers: this.providers, intraOpThreads: this.opts.intraOpThreads, onFallback: (m) => this.onNote?.(m) });
    emit('done', reused, reused ? `Loaded the compiled ${what} from the cache.` : `Compiled the ${what}.`);
    return session;
  }
}

/** A first-use compile can take long: an abort during it stops before the model runs. */
function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StudioError('CANCELLED', 'Generation cancelled.');
}

function renamed(g: GraphIR, name: string): GraphIR {
  return { ...g, name };
}
