import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * onnxruntime's profiler output (SessionOptions.enableProfiling: a Chrome-trace JSON array) summed per op type
 * and per cost class, for one `model_run` (the last one in the file, so a warm-up run is left out).
 *
 * Node events are `{cat: "Node", name: "<node>_kernel_time", dur: µs, args: {op_name, provider}}`; the optimised
 * graph's op types are what the kernels ran (e.g. `FusedConv`, `NchwcConv`, `ReorderInput` after onnxruntime's
 * layout transformer), so the table shows what the compiler's graph became, not what it wrote.
 */

export interface OpTime {
  op: string;
  /** The cost class the op belongs to (OP_CLASSES). */
  cls: string;
  ms: number;
  nodes: number;
}

export interface OpProfile {
  /** Duration of every model_run in the file, ms, in order. */
  runMs: number[];
  /** Per op type for the last run, largest first. */
  ops: OpTime[];
  /** Per cost class for the last run, largest first. */
  classes: Array<{ cls: string; ms: number }>;
  /** Sum of kernel times in the last run (≤ its model_run: the rest is the executor between kernels). */
  kernelMs: number;
}

/** Op type → the cost class the table asks for; anything else is "other". */
const OP_CLASSES: Array<[string, RegExp]> = [
  ['convolution', /^(Conv|FusedConv|NchwcConv|Nchwc.*Conv|ConvTranspose)$/],
  ['GEMM (MatMul, Gemm)', /^(MatMul|FusedMatMul|Gemm|MatMulNBits|MatMulInteger|DynamicQuantizeMatMul|MatMulIntegerToFloat|QLinearMatMul)$/],
  ['attention', /^(MultiHeadAttention|Attention|Softmax|GroupQueryAttention)$/],
  ['GroupNorm / LayerNorm', /^(InstanceNormalization|GroupNorm|GroupNormalization|LayerNormalization|SkipLayerNormalization|SimplifiedLayerNormalization)$/],
  ['layout (transpose, reorder, reshape, copy)', /^(Transpose|ReorderInput|ReorderOutput|Reshape|Concat|Split|Slice|Gather|Expand|Pad|Resize|Upsample|Identity|Squeeze|Unsqueeze|MemcpyToHost|MemcpyFromHost)$/],
  ['element-wise (add, mul, activations)', /^(Add|Mul|Sub|Div|Sigmoid|Erf|Gelu|FastGelu|BiasGelu|QuickGelu|Sqrt|Relu|Tanh|Sin|Cos|Where|Cast|Neg|Pow|BiasAdd|BiasSplitGelu)$/],
];

export function opClass(op: string): string {
  return OP_CLASSES.find(([, re]) => re.test(op))?.[0] ?? 'other';
}

interface TraceEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string };
}

export function summariseProfile(events: readonly TraceEvent[]): OpProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  if (runs.length === 0) throw new Error('the profile holds no model_run (was the session run before it was closed?)');
  const last = runs[runs.length - 1];
  const from = last.ts ?? 0;
  const to = from + (last.dur ?? 0);
  const byOp = new Map<string, { us: number; n: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || (e.ts ?? -1) < from || (e.ts ?? 0) > to) continue;
    const op = e.args?.op_name ?? '?';
    const r = byOp.get(op) ?? { us: 0, n: 0 };
    r.us += e.dur ?? 0;
    r.n++;
    byOp.set(op, r);
    total += e.dur ?? 0;
  }
  const ops = [...byOp].map(([op, r]) => ({ op, cls: opClass(op), ms: r.us / 1000, nodes: r.n })).sort((a, b) => b.ms - a.ms);
  const byCls = new Map<string, number>();
  for (const o of ops) byCls.set(o.cls, (byCls.get(o.cls) ?? 0) + o.ms);
  return {
    runMs: runs.map((r) => (r.dur ?? 0) / 1000),
    ops,
    classes: [...byCls].map(([cls, ms]) => ({ cls, ms })).sort((a, b) => b.ms - a.ms),
    kernelMs: total / 1000,
  };
}

/** The newest profile file onnxruntime wrote for `prefix` (it appends `_<date>.json`). */
export function findProfileFile(prefix: string): string {
  const dir = dirname(prefix);
  const stem = basename(prefix);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${stem}_`) && f.endsWith('.json'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`onnxruntime wrote no profile for ${prefix}`);
  return files[0];
}

export function readProfile(file: string): OpProfile {
  return summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as TraceEvent[]);
}

/** A Markdown table of the op types (and classes) with their share of the kernel time. */
export function profileTable(p: OpProfile, limit = 20): string {
  const pct = (ms: number): string => `${((100 * ms) / p.kernelMs).toFixed(1)} %`;
  const rows = ['| op type (after onnxruntime\'s optimisations) | class | s | share | nodes |', '|---|---|---|---|---|'];
  for (const o of p.ops.slice(0, limit)) rows.push(`| ${o.op} | ${o.cls} | ${(o.ms / 1000).toFixed(2)} | ${pct(o.ms)} | ${o.nodes} |`);
  rows.push('', '| class | s | share |', '|---|---|---|');
  for (const c of p.classes) rows.push(`| ${c.cls} | ${(c.ms / 1000).toFixed(2)} | ${pct(c.ms)} |`);
  return rows.join('\n');
}
