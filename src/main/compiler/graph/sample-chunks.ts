import type { ProviderName } from '../../../shared/domain/generation';
import { attr, type GraphBuilder } from './builder';

/**
 * Samples (frames) through the spatial layers a few at a time — the CPU memory plan.
 *
 * A UNet + motion call holds every frame's activations at once: onnxruntime allocates each intermediate of a
 * resnet or spatial transformer for all N = batch·frames samples (the transformer's GEGLU alone is N·h·w·2560
 * floats: 671 MB for 16 frames at 64×64), and its arena keeps the largest run's buffers. Spatial layers never
 * mix samples, so they can run as an ONNX `Scan` over groups of k samples: one copy of the layer's nodes
 * (weights are read from the outer graph by name, held and pre-packed once), intermediates sized for k
 * samples and freed between iterations. Motion modules mix frames and stay outside, on every sample.
 *
 * `maxRows` bounds k·h·w (rows of the layer's token matrices per iteration): at 4096 a 64×64 latent goes
 * one frame at a time, 32×32 four at a time, and layers whose samples already fit are left as they are.
 * k always divides N (Scan iterations have one shape), so the output is the same tensor, computed in slices.
 */
export interface SampleChunkPlan {
  maxRows: number;
}

/**
 * A graph's shape carries the plan as its row bound alone (`chunkRows` of the UNet's and ControlNet's call shapes:
 * it names the graph file); these two convert between that and the plan.
 */
export function chunkPlanOfRows(rows: number | undefined): SampleChunkPlan | undefined {
  return rows ? { maxRows: rows } : undefined;
}

export function chunkRowsOf(plan: SampleChunkPlan | undefined): { chunkRows?: number } {
  return plan ? { chunkRows: plan.maxRows } : {};
}

/** The default plan for CPU graphs: GEMMs of ≥ 1024 rows stay efficient, one 64×64 frame per iteration. */
export const CPU_SAMPLE_CHUNKS: SampleChunkPlan = { maxRows: 4096 };

/**
 * The plan for graphs that will run on `provider`: chunks on the CPU, where memory is the creator's RAM and the
 * arena keeps a run's peak; none on GPU providers (their graphs must stay free of control flow, which
 * onnxruntime places on the CPU with copies around it, and their memory is the device's).
 */
export function sampleChunkPlanFor(provider: ProviderName): SampleChunkPlan | undefined {
  return provider === 'cpu' ? CPU_SAMPLE_CHUNKS : undefined;
}

/** Samples per Scan iteration for a layer on `n` samples of `pixels` latent pixels: the largest divisor of n within the plan. */
export function samplesPerChunk(n: number, pixels: number, plan: SampleChunkPlan): number {
  const limit = Math.max(1, Math.floor(plan.maxRows / Math.max(1, pixels)));
  if (limit >= n) return n;
  for (let k = limit; k > 1; k--) if (n % k === 0) return k;
  return 1;
}

/** A value and its static shape (first dimension = samples). */
export interface ChunkVal {
  v: string;
  shape: number[];
}

/**
 * `body` on `inputs` (all [n, …]) under `plan`: built once on all n samples when the plan is absent or they fit
 * one iteration (the plain graph, node for node), else as a Scan over groups of k samples (scanOverSamples).
 * `rowsPerSample` is one sample's rows in the layer's token matrices; `body` gets the [k, …] values and k.
 */
export function overSamples(g: GraphBuilder, name: string, plan: SampleChunkPlan | undefined, inputs: ChunkVal[], rowsPerSample: number, body: (chunks: ChunkVal[], k: number) => ChunkVal[]): ChunkVal[] {
  const n = inputs[0].shape[0];
  const k = plan ? samplesPerChunk(n, rowsPerSample, plan) : n;
  if (k >= n) return body(inputs, n);
  return scanOverSamples(g, name, inputs, k, (chunks) => body(chunks, k));
}

/**
 * `body` applied to `inputs` (all [n, …], sliced together along the samples) k samples at a time, as one
 * `Scan` whose outputs are reshaped back to [n, …]. `body` builds nodes with the same builder and receives
 * [k, …] values; it may read any outer value (weights, the time embedding) by name.
 */
function scanOverSamples(g: GraphBuilder, name: string, inputs: ChunkVal[], k: number, body: (chunks: ChunkVal[]) => ChunkVal[]): ChunkVal[] {
  const n = inputs[0].shape[0];
  if (!(k >= 1 && n % k === 0) || inputs.some((x) => x.shape[0] !== n)) {
    throw new Error(`scanOverSamples ${name}: ${k} samples per chunk do not divide [${inputs.map((x) => x.shape[0]).join(', ')}]`);
  }
  const steps = n / k;
  const sliced = inputs.map((x, i) => g.op('Reshape', [x.v, g.i64([steps, k, ...x.shape.slice(1)])], {}, { name: `${name}/chunk_in${i}` }));
  let outShapes: number[][] = [];
  const sub = g.subgraph(
    `${name}/body`,
    inputs.map((x, i) => ({ hint: `${name}/in${i}`, elemType: g.floatType, shape: [k, ...x.shape.slice(1)] })),
    (names) => {
      const outs = body(names.map((v, i) => ({ v, shape: [k, ...inputs[i].shape.slice(1)] })));
      outShapes = outs.map((o) => o.shape);
      return outs.map((o) => ({ value: o.v, elemType: g.floatType, shape: o.shape }));
    },
  );
  const outs = g.opN('Scan', sliced, outShapes.length, { body: attr.graph(sub), num_scan_inputs: attr.int(inputs.length) }, { name: `${name}/scan` });
  return outs.map((v, i) => {
    const shape = [n, ...outShapes[i].slice(1)];
    return { v: g.op('Reshape', [v, g.i64(shape)], {}, { name: `${name}/chunk_out${i}` }), shape };
  });
}
