import { chunkPlanOfRows } from '../../compiler/graph/sample-chunks';
import { StudioError } from '../../../shared/errors';
import { CompileCache } from '../../compiler/cache';
import { addGraph, compileGraphs } from '../../compiler/compile';
import { buildClipTextGraph } from '../../compiler/families/clip-text';
import { windowFusionPlan } from '../../compiler/families/context-windows';
import { buildUNetGraph } from '../../compiler/families/unet';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../compiler/families/vae';
import { buildImageEncoderGraph } from '../../compiler/families/image-encoder';
import type { GraphIR } from '../../compiler/graph/builder';
import type { LoraSlotPlan } from '../../compiler/graph/lora-slots';
import type { WeightSet } from '../../compiler/io/tensor';
import { GemmMerger } from '../lora/gemm-merger';
import { MergedWeights } from '../lora/merged-weights';
import type { RuntimeStackPlan } from '../lora/runtime-stack';
import { componentCacheKey, graphName, isLoraComponent, type CompileSettings, type Component, type GraphId, type GraphShape } from './graph-identity';
import { compileMergedOverlay } from './lora-overlay-entry';
import type { ModelSource } from './model-source';

/** A compile start/done, for progress messages ("Compiling the UNet + motion module for this shape…"). */
export interface CompileEvent {
  component: Component;
  /** The graph (shape) concerned, e.g. `unet_b2_f16_64x64_t77` (graphName). */
  graph: string;
  phase: 'start' | 'done';
  /** True when the compiled graph came from the cache (no compile happened). */
  reused: boolean;
  elapsedMs: number;
  message: string;
}

export const COMPONENT_LABEL: Record<Component, string> = {
  text_encoder: 'text encoder',
  unet: 'UNet + motion module',
  vae: 'VAE decoder',
  vae_encoder: 'VAE encoder',
  img_encoder: 'AnimateLCM-I2V image encoder',
};

export interface CompiledGraph {
  /** The `.onnx` file to open a session on. */
  path: string;
  /** True when the graph was already in the cache. */
  reused: boolean;
}

/**
 * Turns a GraphId into a compiled `.onnx` file in the compile cache: the component's entry (weights written once)
 * plus one small graph file per shape, or — for a merged LoRA part — an overlay of only the touched tensors in that
 * same entry (lora-overlay-entry.ts). Opens no session.
 */
export class GraphCompiler {
  private readonly cache: CompileCache;
  /** onnxruntime GEMM for merging low-rank parts into overlay tensors (opened on the first merged stack). */
  private gemm: GemmMerger | undefined;

  constructor(
    cacheRoot: string,
    private readonly source: ModelSource,
    private readonly settings: CompileSettings,
    private readonly intraOpThreads?: number,
  ) {
    this.cache = new CompileCache(cacheRoot);
  }

  private isCached(id: GraphId): boolean {
    const hit = this.cache.lookup(componentCacheKey(this.source, id.shape.component, this.settings));
    return hit !== undefined && hit.manifest.files[`${graphName(id)}.onnx`] !== undefined;
  }

  /**
   * The compiled graph for `id`; `plan` is the component's current LoRA plan when `id.mergedKey` is set (its merged
   * deltas). `onMiss` is called before a compile starts (not on a cache hit), `onNote` on overlay writes.
   * Failures other than StudioErrors become COMPILE_FAILED.
   */
  async compile(id: GraphId, plan: RuntimeStackPlan | undefined, hooks: { onMiss?: () => void; onNote?: (message: string) => void } = {}): Promise<CompiledGraph> {
    const component = id.shape.component;
    const key = componentCacheKey(this.source, component, this.settings);
    const name = graphName(id);
    try {
      const reused = this.isCached(id);
      if (!reused) hooks.onMiss?.();
      const base = this.baseWeights(component);
      if (id.mergedKey && isLoraComponent(component)) {
        if (plan?.mergedKey !== id.mergedKey) throw new Error(`the LoRA plan does not hold the merged part ${id.mergedKey}`);
        const merged = new MergedWeights(base, plan.merged);
        const r = await compileMergedOverlay({
          cache: this.cache,
          baseKey: key,
          mergedKey: id.mergedKey,
          name,
          buildBase: () => this.build(id.shape, base, graphName({ shape: id.shape })),
          buildMerged: () => this.build(id.shape, merged, name),
          merged,
          gemm: (this.gemm ??= new GemmMerger({ intraOpThreads: this.intraOpThreads })),
        });
        if (r.timing) hooks.onNote?.(`Merged LoRA overlay for the ${COMPONENT_LABEL[component]}: ${r.timing.tensors} tensors, ${(r.timing.bytes / 2 ** 20).toFixed(0)} MiB (base weights untouched).`);
        return { path: r.path, reused };
      }
      const { entry, models } = await compileGraphs(this.cache, key, () => [this.build(id.shape, base, name)]);
      return { path: models[name] ?? (await addGraph(this.cache, entry, this.build(id.shape, base, name))), reused };
    } catch (e) {
      if (e instanceof StudioError) throw e;
      const what = this.source.isStarter ? `${COMPONENT_LABEL[component]} of the starter test model` : COMPONENT_LABEL[component];
      throw new StudioError('COMPILE_FAILED', `Compiling the ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { component, graph: name });
    }
  }

  async dispose(): Promise<void> {
    await this.gemm?.dispose().catch(() => undefined);
    this.gemm = undefined;
  }

  private baseWeights(component: Component): WeightSet {
    const w = this.source.weights;
    if (component === 'vae_encoder') return w.vae;
    if (component === 'img_encoder') {
      if (!w.img_encoder) throw new StudioError('INVALID_PARAMS', 'Image-to-video needs AnimateLCM-I2V\'s motion module (AnimateLCM_sd15_i2v.ckpt, which holds the image encoder) as the motion module.');
      return w.img_encoder;
    }
    return w[component];
  }

  /** The graph of `shape` over `weights` (base or merged), named `name`. */
  private build(shape: GraphShape, weights: WeightSet, name: string): GraphIR {
    const { configs, weights: base } = this.source;
    const floatType = this.settings.precision;
    const attention = this.settings.attention;
    const loraSlots: LoraSlotPlan | undefined = this.settings.loraRank > 0 ? { rank: this.settings.loraRank } : undefined;
    switch (shape.component) {
      case 'text_encoder':
        return { ...buildClipTextGraph(weights, configs.text_encoder, { batch: 1, seqLen: shape.tokens, floatType, clipSkip: shape.deepSkip, loraSlots, extraTokens: shape.extraTokens }), name };
      case 'unet':
        return buildUNetGraph(weights, configs.unet, {
          batch: shape.batch,
          latentHeight: shape.latentHeight,
          latentWidth: shape.latentWidth,
          contextLength: shape.tokens,
          floatType,
          attention,
          trig: this.settings.trig,
          norm: this.settings.norm,
          motion: { w: base.motion, cfg: configs.motion, frames: shape.frames, groupnorm: this.settings.groupnorm, windows: shape.windows && windowFusionPlan(shape.frames, shape.windows) },
          name,
          loraSlots,
          controlResiduals: shape.control,
          imageFeatures: shape.imageFeatures,
          sampleChunks: chunkPlanOfRows(shape.chunkRows),
          quant: this.settings.quant,
          conv: this.settings.conv,
        });
      case 'vae':
        return { ...buildVaeDecoderGraph(weights, configs.vae, { batch: 1, latentHeight: shape.latentHeight, latentWidth: shape.latentWidth, floatType, attention, conv: this.settings.conv }), name };
      case 'vae_encoder':
        return { ...buildVaeEncoderGraph(weights, configs.vae, { batch: 1, height: shape.height, width: shape.width, floatType, attention, conv: this.settings.conv }), name };
      case 'img_encoder':
        return buildImageEncoderGraph(weights, { batch: shape.batch, frames: shape.frames, latentHeight: shape.latentHeight, latentWidth: shape.latentWidth, levels: configs.unet.block_out_channels.length, floatType, name });
    }
  }
}
