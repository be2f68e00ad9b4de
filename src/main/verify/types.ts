import type { ProviderName } from '../../shared/domain/generation';
import type { QuantPlan } from '../compiler/graph/quant-plan';
import type { ConvPlan } from '../compiler/graph/conv-plan';
import type { SampleChunkPlan } from '../compiler/graph/sample-chunks';

/**
 * `verify` runs reference cases (folders with a files.json, see test/fixtures/reference/README.md) and
 * compares our engine with the reference implementation. One handler per `kind`; dispatch is by `kind` only.
 */
export interface Comparison {
  /** Case folder, relative to the verify root. */
  case: string;
  /** What was compared, e.g. `diffusers noise_pred_t999`, `ldm noise_pred_t259`. */
  what: string;
  maxAbs: number;
  relL2: number;
  pass: boolean;
  note?: string;
}

/** Where the model kinds run: one provider (no fallback: a verify on WebGPU must run on WebGPU) and precision. */
export interface VerifyTarget {
  provider: ProviderName;
  precision: 'float32' | 'float16';
  /**
   * Overrides the provider's sample-chunk plan (graph/sample-chunks.ts). The fixtures' latents are far below the
   * CPU plan's threshold, so a test forces chunks (e.g. `{ maxRows: 1 }`: one sample per Scan iteration) to
   * hold the chunked graphs to the reference.
   */
  sampleChunks?: SampleChunkPlan;
  /**
   * The UNet's Linear and conv layers as int8 products (graph/quant-plan.ts; CPU, float32 graphs only): the labelled
   * faster precision. Judged by relative L2 (run.ts `INT8_MAX_REL_L2`); absent = float.
   */
  quant?: QuantPlan;
  /** Overrides the provider's conv plan (graph/conv-plan.ts): a test holds both forms to the reference. */
  conv?: ConvPlan;
}

export const CPU_FP32: VerifyTarget = { provider: 'cpu', precision: 'float32' };

export interface VerifyContext {
  /** Absolute path of the case folder. */
  dir: string;
  /** Case name as printed (path relative to the verify root). */
  name: string;
  /** Parsed files.json. */
  files: Record<string, unknown>;
  /** Scratch folder for compiled graphs (removed after the run). */
  workDir: string;
  /** The provider and precision the case's graphs are compiled for and run on. */
  target: VerifyTarget;
  report(c: Comparison): void;
}

export interface KindHandler {
  kind: string;
  /** Builds no graph (seeded noise, permutations, the scheduler): runs on the host whatever the target says. */
  noGraph?: boolean;
  run(ctx: VerifyContext): Promise<void>;
}
