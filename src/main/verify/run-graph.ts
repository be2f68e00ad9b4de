import { join } from 'node:path';
import { attentionPlanFor, type AttentionPlan } from '../compiler/graph/attention-plan';
import type { GraphIR } from '../compiler/graph/builder';
import type { QuantPlan } from '../compiler/graph/quant-plan';
import { convPlanFor, type ConvPlan } from '../compiler/graph/conv-plan';
import { normPlanFor, type NormPlan } from '../compiler/graph/norm-plan';
import { sampleChunkPlanFor, type SampleChunkPlan } from '../compiler/graph/sample-chunks';
import { trigPlanFor, type TrigPlan } from '../compiler/graph/trig-plan';
import { emitModel } from '../compiler/graph/emit';
import { readNpy } from '../compiler/io/npy';
import { openSafetensors } from '../compiler/io/safetensors';
import type { TensorTable, WeightSet } from '../compiler/io/tensor';
import { createSession, type EngineSession, type HostTensor } from '../engine/runtime/session';
import { CPU_FP32, type VerifyTarget } from './types';

/**
 * What every model-kind handler does: emit a graph into the case's scratch folder, run it on the target's
 * provider (default onnxruntime CPU, fp32: the reference precision), read fixture arrays.
 */

/** The graph-builder options a target implies: its float type and the attention the compiler picks for it. */
export function graphOptionsFor(target: VerifyTarget): { floatType: 'float32' | 'float16'; attention: AttentionPlan; trig: TrigPlan; norm: NormPlan; sampleChunks: SampleChunkPlan | undefined; quant: QuantPlan; conv: ConvPlan } {
  return {
    quant: target.quant ?? 'float',
    conv: target.conv ?? convPlanFor(target.provider),
    floatType: target.precision,
    attention: attentionPlanFor(target.provider),
    trig: trigPlanFor(target.provider),
    norm: normPlanFor(target.provider),
    sampleChunks: target.sampleChunks ?? sampleChunkPlanFor(target.provider),
  };
}

let counter = 0;

/** Emits `graph` into `workDir`, runs `feeds` once on the target's provider, returns every output as float32/int. */
export async function runGraphOnce(graph: GraphIR, workDir: string, feeds: Record<string, HostTensor>, target: VerifyTarget = CPU_FP32): Promise<Record<string, HostTensor>> {
  const n = ++counter;
  const { modelPath } = emitModel(graph, { dir: join(workDir, `g${n}`), modelFile: `${graph.name}.onnx` });
  const session = await createSession(modelPath, { providers: [target.provider] });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** A TensorTable (names as stored in the file) seen as a WeightSet. */
export function tableWeights(t: TensorTable): WeightSet {
  return { names: () => t.names(), get: (n) => t.get(n), has: (n) => t.get(n) !== undefined };
}

export function openWeightsFile(path: string): WeightSet & { close(): void } {
  const t = openSafetensors(path);
  return { ...tableWeights(t), close: () => t.close() };
}

export function npyF32(path: string): { shape: number[]; data: Float32Array } {
  const a = readNpy(path);
  if (a.data instanceof Float32Array) return { shape: a.shape, data: a.data };
  return { shape: a.shape, data: Float32Array.from(a.data as ArrayLike<number | bigint>, (v) => Number(v)) };
}

export function npyI64(path: string): { shape: number[]; data: BigInt64Array } {
  const a = readNpy(path);
  if (a.data instanceof BigInt64Array) return { shape: a.shape, data: a.data };
  return { shape: a.shape, data: BigInt64Array.from(a.data as ArrayLike<number>, (v) => BigInt(v)) };
}

export function f32(t: HostTensor): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`expected a float32 output, got ${t.type}`);
  return t.data;
}

/** Emits `graph` and opens one session on the target's provider, for handlers that run a graph many times; dispose when done. */
export async function openGraph(graph: GraphIR, workDir: string, target: VerifyTarget = CPU_FP32): Promise<EngineSession & { inputShape(name: string): number[] }> {
  const n = ++counter;
  const { modelPath } = emitModel(graph, { dir: join(workDir, `g${n}`), modelFile: `${graph.name}.onnx` });
  const session = await createSession(modelPath, { providers: [target.provider] });
  const inputShape = (name: string): number[] => {
    const i = graph.inputs.find((x) => x.name === name);
    if (!i || !i.shape.every((d): d is number => typeof d === 'number')) throw new Error(`${graph.name} has no static input ${name}`);
    return i.shape;
  };
  return Object.assign(session, { inputShape });
}
