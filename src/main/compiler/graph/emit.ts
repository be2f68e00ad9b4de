import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorView } from '../io/tensor';
import { allInitializers, type Attr, type Dim, type ElemType, type GraphIR, type InitializerIR, type NodeIR, type SubgraphIR, type ValueInfoIR, type WeightSource } from './builder';
import { f32ToF16 } from '../io/float16';
import { winogradKernel } from './conv-plan';
import { encodingSuffix, int8Part, isConvEncoding, quantizeWeight, type WeightEncoding } from './quant-plan';
import { ProtoWriter } from './proto';

/**
 * GraphIR → ONNX files. Weights and graphs are written separately so they can be shared:
 *
 *   const index = emitWeights([graphA, graphB], { dir });          // one weights.bin for both
 *   emitGraphFile(graphA, index, { dir, modelFile: 'a.onnx' });     // small protobufs, one per shape
 *   emitGraphFile(graphB, index, { dir, modelFile: 'b.onnx' });
 *
 * Every weight initializer (source.kind 'weight') lives in an external-data file at a 64 KiB-aligned offset
 * (onnxruntime mmaps aligned tensors on every OS; 4 KiB suffices on Linux, Windows needs 64 KiB). Small
 * constants are inline raw_data. The WeightIndex says, per weight, which file holds it, so a LoRA stack can
 * write an overlay file holding only the tensors it changes and point the graph at it (`overlayIndex`)
 * without rewriting the base weights. Every file is written to a temporary name and renamed into place.
 */

export const EXTERNAL_ALIGN = 65536;
export const IR_VERSION = 8;
const PRODUCER = 'animatelcm-studio';

export interface WeightLocation {
  /** File name relative to the graph file's folder (graphs and their weight files share a folder). */
  file: string;
  offset: number;
  length: number;
  elemType: 'float32' | 'float16' | 'int8';
  /** Element count, to catch an index made for a different tensor. */
  numel: number;
}

/** Weight key → where its bytes are. Keys come from `weightKey`. */
export type WeightIndex = Map<string, WeightLocation>;

/** One weight tensor in one memory layout (transposed or not) and encoding; reshapes do not change bytes. */
export interface WeightItem {
  key: string;
  view: TensorView;
  transpose: boolean;
  /** Absent = floats in the file's float type (quant-plan.ts). */
  encoding?: WeightEncoding;
}

/** The bytes of a weight initializer depend on the stored tensor and whether it is transposed. */
export function weightKey(source: Pick<WeightSource, 'view' | 'transpose' | 'encoding'>): string {
  return source.view.name + (source.transpose ? '.T' : '') + encodingSuffix(source.encoding);
}

/** The distinct weights used by `graphs`, in first-use order. */
export function collectWeights(graphs: readonly GraphIR[]): WeightItem[] {
  const seen = new Map<string, WeightItem>();
  for (const g of graphs) {
    for (const init of allInitializers(g)) {
      if (init.source.kind !== 'weight') continue;
      const key = weightKey(init.source);
      const prev = seen.get(key);
      if (prev) {
        if (prev.view !== init.source.view && !sameShape(prev.view.shape, init.source.view.shape)) {
          throw new Error(`weight ${key} appears with shapes [${prev.view.shape}] and [${init.source.view.shape}]`);
        }
        continue;
      }
      const { view, transpose, encoding } = init.source;
      seen.set(key, encoding ? { key, view, transpose, encoding } : { key, view, transpose });
    }
  }
  return [...seen.values()];
}

/** One weight as written: its bytes, their element type and count. */
export interface EncodedWeight {
  bytes: Uint8Array;
  elemType: WeightLocation['elemType'];
  numel: number;
}

/**
 * The writer of one weights file's items: bytes in the given float type (a Winograd kernel transformed first,
 * conv-plan.ts), or the int8 encoding's. `laidOut` = the
 * values already in the graph's layout (a LoRA overlay's merged values); absent = the view's values, transposed if
 * the item asks. A quantised weight is two items (values, scales) written one after the other: the writer quantises
 * once for both and forgets it at the next weight, so one file's write holds at most one weight's int8 copy.
 */
export function weightEncoder(floatType: 'float32' | 'float16'): (item: Pick<WeightItem, 'view' | 'transpose' | 'encoding'>, laidOut?: Float32Array) => EncodedWeight {
  let last: { view: TensorView; transpose: boolean; conv: boolean; parts: { q: Int8Array; scales: Float32Array } } | undefined;
  return (item, laidOut) => {
    const [r, c] = item.view.shape;
    const values = (): Float32Array => laidOut ?? (item.transpose ? transpose2d(item.view.readF32(), r, c) : item.view.readF32());
    const encoding = item.encoding ?? 'float';
    if (encoding === 'float') {
      const data = values();
      return { ...floatBytes(data, floatType), numel: data.length };
    }
    if (encoding === 'winograd') {
      const data = winogradKernel(values(), item.view.shape);
      return { ...floatBytes(data, floatType), numel: data.length };
    }
    const conv = isConvEncoding(encoding);
    const hit = last && last.view === item.view && last.transpose === item.transpose && last.conv === conv;
    const parts = hit && last ? last.parts : quantizeWeight(values(), item.transpose ? [c, r] : item.view.shape, conv);
    last = { view: item.view, transpose: item.transpose, conv, parts };
    return int8Part(parts, encoding);
  };
}

function floatBytes(data: Float32Array, floatType: 'float32' | 'float16'): { bytes: Uint8Array; elemType: 'float32' | 'float16' } {
  if (floatType === 'float16') {
    const h = f32ToF16(data);
    return { bytes: new Uint8Array(h.buffer, h.byteOffset, h.byteLength), elemType: 'float16' };
  }
  return { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), elemType: 'float32' };
}

/**
 * Writes `items` into `dir/file` (atomically), each at a 64 KiB-aligned offset, and returns their locations.
 * Used for base weight files and for LoRA overlay files (pass only the changed tensors, with views that
 * read the merged values).
 */
export function writeWeightsFile(
  items: readonly WeightItem[],
  opts: { dir: string; file: string; floatType: 'float32' | 'float16' },
): WeightIndex {
  mkdirSync(opts.dir, { recursive: true });
  const finalPath = join(opts.dir, opts.file);
  const tmp = tempName(finalPath);
  const index: WeightIndex = new Map();
  const fd = openSync(tmp, 'w');
  const encode = weightEncoder(opts.floatType);
  try {
    let offset = 0;
    let end = 0;
    for (const item of items) {
      const { bytes, elemType, numel } = encode(item);
      writeAll(fd, bytes, offset);
      index.set(item.key, { file: opts.file, offset, length: bytes.byteLength, elemType, numel });
      end = offset + bytes.byteLength;
      offset = alignUp(end, EXTERNAL_ALIGN);
    }
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, finalPath);
  return index;
}

/** One weights file for every weight any of `graphs` uses (they must share a float type). */
export function emitWeights(graphs: readonly GraphIR[], opts: { dir: string; weightsFile?: string }): WeightIndex {
  if (graphs.length === 0) return new Map();
  const floatType = graphs[0].floatType;
  for (const g of graphs) {
    if (g.floatType !== floatType) throw new Error(`emitWeights: graphs mix ${floatType} and ${g.floatType}; use one weights file per float type`);
  }
  return writeWeightsFile(collectWeights(graphs), { dir: opts.dir, file: opts.weightsFile ?? 'weights.bin', floatType });
}

/** `base` with the entries of `overlay` replacing (or adding) theirs: base weights + a LoRA overlay file. */
export function overlayIndex(base: WeightIndex, overlay: WeightIndex): WeightIndex {
  const out: WeightIndex = new Map(base);
  for (const [k, v] of overlay) out.set(k, v);
  return out;
}

/** Writes `dir/modelFile` (atomically), referencing weights through `index`. Returns the model path. */
export function emitGraphFile(graph: GraphIR, index: WeightIndex, opts: { dir: string; modelFile: string }): string {
  mkdirSync(opts.dir, { recursive: true });
  const path = join(opts.dir, opts.modelFile);
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, encodeModel(graph, index));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return path;
}

/** One graph, one weights file: the simple case (tests, verify). */
export function emitModel(graph: GraphIR, opts: { dir: string; modelFile: string; weightsFile?: string }): { modelPath: string; weightsPath: string } {
  const weightsFile = opts.weightsFile ?? 'weights.bin';
  const index = emitWeights([graph], { dir: opts.dir, weightsFile });
  const modelPath = emitGraphFile(graph, index, opts);
  return { modelPath, weightsPath: join(opts.dir, weightsFile) };
}

// ---------------------------------------------------------------------------------------------------------
// ONNX protobuf encoding (field numbers from onnx/onnx.proto)

const DATA_TYPE: Record<ElemType, number> = { float32: 1, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 };
const ELEM_BYTES: Record<ElemType, number> = { float32: 4, int32: 4, int64: 8, int8: 1, bool: 1, float16: 2 };

/** The ModelProto bytes for `graph`, weights referenced through `index`. */
export function encodeModel(graph: GraphIR, index: WeightIndex): Uint8Array {
  const w = new ProtoWriter(1 << 16);
  w.int(1, IR_VERSION); // ir_version
  w.string(2, PRODUCER); // producer_name
  w.string(3, '1'); // producer_version
  w.message(7, (gw) => encodeGraph(gw, graph, index)); // graph
  for (const [domain, version] of Object.entries(graph.opsets)) {
    w.message(8, (o) => {
      o.string(1, domain);
      o.int(2, version);
    });
  }
  for (const [key, value] of Object.entries(graph.metadata)) {
    w.message(14, (m) => {
      m.string(1, key);
      m.string(2, value);
    });
  }
  return w.finish();
}

function encodeGraph(w: ProtoWriter, graph: GraphIR, index: WeightIndex): void {
  for (const node of graph.nodes) w.message(1, (n) => encodeNode(n, node, index));
  w.string(2, graph.name);
  for (const init of graph.initializers) w.message(5, (t) => encodeInitializer(t, init, index));
  for (const v of graph.inputs) w.message(11, (vi) => encodeValueInfo(vi, v));
  for (const v of graph.outputs) w.message(12, (vi) => encodeValueInfo(vi, v));
}

function encodeNode(w: ProtoWriter, node: NodeIR, index: WeightIndex): void {
  for (const i of node.inputs) w.string(1, i);
  for (const o of node.outputs) w.string(2, o);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, a] of Object.entries(node.attrs)) w.message(5, (aw) => encodeAttr(aw, name, a, index));
  if (node.domain) w.string(7, node.domain);
}

function encodeAttr(w: ProtoWriter, name: string, a: Attr, index: WeightIndex): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'floats':
      for (const f of a.value) w.float(7, f);
      w.int(20, 6);
      break;
    case 'ints':
      for (const i of a.value) w.int(8, i);
      w.int(20, 7);
      break;
    case 'graph':
      w.message(6, (gw) => encodeSubgraph(gw, a.value, index));
      w.int(20, 5);
      break;
  }
}

/** A Scan/Loop body with the weights it owns (external data in the same files as the main graph's). */
function encodeSubgraph(w: ProtoWriter, sub: SubgraphIR, index: WeightIndex): void {
  for (const node of sub.nodes) w.message(1, (n) => encodeNode(n, node, index));
  w.string(2, sub.name);
  for (const init of sub.initializers) w.message(5, (t) => encodeInitializer(t, init, index));
  for (const v of sub.inputs) w.message(11, (vi) => encodeValueInfo(vi, v));
  for (const v of sub.outputs) w.message(12, (vi) => encodeValueInfo(vi, v));
}

function encodeValueInfo(w: ProtoWriter, v: ValueInfoIR): void {
  w.string(1, v.name);
  w.message(2, (t) =>
    t.message(1, (tt) => {
      tt.int(1, DATA_TYPE[v.elemType]);
      tt.message(2, (s) => {
        for (const d of v.shape) s.message(1, (dw) => encodeDim(dw, d));
      });
    }),
  );
}

function encodeDim(w: ProtoWriter, d: Dim): void {
  if (typeof d === 'number') w.int(1, d);
  else w.string(2, d);
}

function encodeInitializer(w: ProtoWriter, init: InitializerIR, index: WeightIndex): void {
  for (const d of init.shape) w.int(1, d);
  w.int(2, DATA_TYPE[init.elemType]);
  w.string(8, init.name);
  const src = init.source;
  if (src.kind === 'weight') {
    const key = weightKey(src);
    const loc = index.get(key);
    if (!loc) throw new Error(`initializer ${init.name}: weight ${key} is not in the weights index`);
    const n = numelOf(init.shape);
    if (loc.elemType !== init.elemType || loc.numel !== n) {
      throw new Error(`initializer ${init.name}: the index holds ${loc.numel} ${loc.elemType} values, the graph wants ${n} ${init.elemType}`);
    }
    for (const [k, v] of [['location', loc.file], ['offset', String(loc.offset)], ['length', String(loc.length)]]) {
      w.message(13, (e) => {
        e.string(1, k);
        e.string(2, v);
      });
    }
    w.int(14, 1); // data_location = EXTERNAL
    return;
  }
  w.bytes(9, constBytes(init));
}

function constBytes(init: InitializerIR): Uint8Array {
  if (init.source.kind !== 'const') throw new Error('unreachable');
  const data = init.source.data;
  const n = numelOf(init.shape);
  if (data.length !== n) throw new Error(`constant ${init.name}: ${data.length} values for shape [${init.shape}]`);
  let out: ArrayBufferView;
  switch (init.elemType) {
    case 'float32':
      out = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
      break;
    case 'float16':
      out = f32ToF16(data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>));
      break;
    case 'int64':
      out = data instanceof BigInt64Array ? data : BigInt64Array.from(Array.from(data as ArrayLike<number>, (x) => BigInt(x)));
      break;
    case 'int32':
      out = data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
      break;
    case 'int8':
      throw new Error(`constant ${init.name}: int8 is a weight encoding, not a constant type`);
    case 'bool':
      out = data instanceof Uint8Array ? data : Uint8Array.from(data as ArrayLike<number>, (x) => (x ? 1 : 0));
      break;
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  if (bytes.byteLength !== n * ELEM_BYTES[init.elemType]) throw new Error(`constant ${init.name}: wrong byte size`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------

function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c];
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

let tmpCounter = 0;
/** A sibling temp name (same folder, so rename is atomic on the same filesystem). */
export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now().toString(36)}-${++tmpCounter}`;
}
