import { chunkPlanOfRows } from '../../compiler/graph/sample-chunks';
import { attentionLabel, attentionPlanFor } from '../../compiler/graph/attention-plan';
import { normPlanFor } from '../../compiler/graph/norm-plan';
import { convPlanFor } from '../../compiler/graph/conv-plan';
import { trigPlanFor } from '../../compiler/graph/trig-plan';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import type { ProviderName } from '../../../shared/domain/generation';
import { CompileCache, fileIdentity } from '../../compiler/cache';
import { addGraph, compileGraphs } from '../../compiler/compile';
import { parseUNetConfig, type UNetConfig } from '../../compiler/families/configs';
import { buildControlNetGraph, controlResidualShapes, hintDownscale } from '../../compiler/families/controlnet';
import { detectModel } from '../../compiler/families/detect';
import { openModel } from '../../compiler/io/open';
import type { TensorTable, WeightSet } from '../../compiler/io/tensor';
import { canonicalizeControlNet } from '../../compiler/names/controlnet-names';
import { createSession, f32Tensor, type EngineSession } from '../runtime/session';
import type { ControlResiduals } from './control-residuals';

/**
 * One ControlNet file, loaded: read (either layout), checked to be an SD1.5 ControlNet, compiled into the compile
 * cache (one entry per file, one small graph per call shape, as the UNet), run on its own session.
 * What shapes cannot show (heads, GroupNorm groups) comes from a diffusers `config.json` beside the file when it is
 * a ControlNet config, else SD1.5 ControlNet values (those of every lllyasviel control_v11p_sd15_* file).
 */

export interface ControlNetCallShape {
  /** Rows: cfg halves · frames. */
  rows: number;
  latentHeight: number;
  latentWidth: number;
  tokens: number;
  /** Resnets and cross-attentions as Scans of at most this many rows (graph/sample-chunks.ts), as the UNet call runs. */
  chunkRows?: number;
}

export interface ControlNetModelOptions {
  cacheRoot: string;
  providers?: ProviderName[];
  precision?: 'float32' | 'float16';
  intraOpThreads?: number;
}

export class ControlNetModel {
  readonly config: UNetConfig;
  readonly layout: 'diffusers' | 'ldm';
  /** The control image is this many times the latent (8 for every real SD1.5 ControlNet). */
  readonly hintDownscale: number;
  readonly conditioningChannels: number;
  private readonly table: TensorTable;
  private readonly weights: WeightSet;
  private readonly cache: CompileCache;
  private readonly sessions = new Map<string, Promise<EngineSession>>();

  constructor(
    readonly path: string,
    private readonly opts: ControlNetModelOptions,
  ) {
    const table = openModel(path);
    try {
      const d = detectModel(table);
      if (d.family !== 'controlnet' || !d.supported) {
        const what = d.family === 'controlnet' || d.configs.controlnet ? d.label : `a ${d.label}`;
        throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `${basename(path)} is ${what}, not an SD1.5 ControlNet.${d.message && d.family !== 'unknown' ? ` ${d.message}` : ''}`, { path, family: d.family });
      }
      const cn = canonicalizeControlNet(table);
      this.weights = cn.weights;
      this.layout = cn.layout;
      const json = configBeside(path);
      const shapes = d.configs.controlnet!;
      this.config = json ? { ...parseUNetConfig(json), block_out_channels: shapes.block_out_channels, layers_per_block: shapes.layers_per_block, down_block_types: shapes.down_block_types } : shapes;
      this.hintDownscale = hintDownscale(cn.weights);
      this.conditioningChannels = shapes.conditioning_channels;
      this.table = table;
      this.cache = new CompileCache(opts.cacheRoot);
    } catch (e) {
      table.close();
      throw e;
    }
  }

  get precision(): 'float32' | 'float16' {
    return this.opts.precision ?? 'float32';
  }

  /** Scaled residuals for one call: `cond` is [rows, 3, h·8, w·8] in [0, 1]; `scale` is keep·conditioning scale. */
  async run(sample: Float32Array, timestep: number, context: Float32Array, cond: Float32Array, scale: number, shape: ControlNetCallShape): Promise<ControlResiduals> {
    const s = await this.session(shape);
    const { rows, latentHeight: h, latentWidth: w, tokens } = shape;
    const f = this.hintDownscale;
    const out = await s.run({
      sample: f32Tensor(sample, [rows, this.config.in_channels, h, w]),
      timestep: f32Tensor(Float32Array.of(timestep), [1]),
      encoder_hidden_states: f32Tensor(context, [rows, tokens, this.config.cross_attention_dim]),
      controlnet_cond: f32Tensor(cond, [rows, this.conditioningChannels, h * f, w * f]),
      conditioning_scale: f32Tensor(Float32Array.of(scale), [1]),
    });
    const down: Float32Array[] = [];
    for (let i = 0; out[`down_residual_${i}`]; i++) down.push(out[`down_residual_${i}`].data as Float32Array);
    return { down, mid: out.mid_residual.data as Float32Array };
  }

  zeros(shape: ControlNetCallShape): ControlResiduals {
    const s = controlResidualShapes(this.config, shape.rows, shape.latentHeight, shape.latentWidth);
    const size = (d: number[]): number => d.reduce((a, b) => a * b, 1);
    return { down: s.down.map((d) => new Float32Array(size(d))), mid: new Float32Array(size(s.mid)) };
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.then((x) => x.dispose()).catch(() => undefined);
    this.table.close();
  }

  private session(shape: ControlNetCallShape): Promise<EngineSession> {
    const name = `controlnet_b${shape.rows}_${shape.latentHeight}x${shape.latentWidth}_t${shape.tokens}${shape.chunkRows ? `_rows${shape.chunkRows}` : ''}`;
    let s = this.sessions.get(name);
    if (!s) {
      s = this.open(name, shape);
      this.sessions.set(name, s);
      s.catch(() => this.sessions.delete(name));
    }
    return s;
  }

  private async open(name: string, shape: ControlNetCallShape): Promise<EngineSession> {
    // The attention form is part of the key only where it is not the fused default (WebGPU), as for the UNet.
    const attention = attentionPlanFor(this.opts.providers?.[0] ?? 'cpu');
    const trig = trigPlanFor(this.opts.providers?.[0] ?? 'cpu');
    const norm = normPlanFor(this.opts.providers?.[0] ?? 'cpu');
    const sampleChunks = chunkPlanOfRows(shape.chunkRows);
    const conv = convPlanFor(this.opts.providers?.[0] ?? 'cpu');
    // Winograd kernels are other weights: their own entry. Direct keeps the keys entries had before conv plans.
    const options = { ...(attention.kind === 'fused' ? {} : { attention: attentionLabel(attention), trig, ...(norm === 'instance' ? {} : { norm }) }), ...(conv === 'winograd' ? { conv } : {}) };
    const key = { family: 'controlnet', config: this.config, weights: [fileIdentity(this.path)], precision: this.precision, ...(Object.keys(options).length ? { options } : {}) };
    const build = () => buildControlNetGraph(this.weights, this.config, { batch: shape.rows, latentHeight: shape.latentHeight, latentWidth: shape.latentWidth, contextLength: shape.tokens, floatType: this.precision, attention, trig, norm, sampleChunks, conv, name });
    try {
      const { entry, models } = await compileGraphs(this.cache, key, () => [build()]);
      const path = models[name] ?? (await addGraph(this.cache, entry, build()));
      return await createSession(path, { providers: this.opts.providers, intraOpThreads: this.opts.intraOpThreads });
    } catch (e) {
      if (e instanceof StudioError) throw e;
      throw new StudioError('COMPILE_FAILED', `Compiling the ControlNet ${basename(this.path)} failed: ${e instanceof Error ? e.message : String(e)}`, { path: this.path });
    }
  }
}

/** A diffusers ControlNet `config.json` in the file's folder (a downloaded diffusers ControlNet keeps one there). */
function configBeside(path: string): Record<string, unknown> | undefined {
  const p = join(existsSync(path) && isDir(path) ? path : dirname(path), 'config.json');
  if (!existsSync(p)) return undefined;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    return j._class_name === 'ControlNetModel' || Array.isArray(j.conditioning_embedding_out_channels) ? j : undefined;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  return statSync(p).isDirectory();
}
