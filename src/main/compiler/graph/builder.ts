import type { TensorView } from '../io/tensor';
import { FUSED_ATTENTION, type AttentionPlan } from './attention-plan';
import { takesWinograd, UNET_WINOGRAD_LAYERS, winogradKernelShape, type ConvPlan, type WinogradLayers } from './conv-plan';
import { encodedShape, encodingSuffix, isConvEncoding, isInt8Encoding, type QuantPlan, type WeightEncoding } from './quant-plan';
import type { NormPlan } from './norm-plan';
import type { TrigPlan } from './trig-plan';

/**
 * An in-memory ONNX graph under construction. Builders for each model family call `op()` with value names;
 * `emit.ts` turns the result into a .onnx protobuf plus one external-data file of weights.
 *
 * Weights are referenced lazily (a TensorView), never copied here, so a full-size UNet graph can be built
 * while holding no weight data in memory. Initializers carry the canonical (diffusers) weight name, and node
 * names carry the scope of the module that made them (e.g. `down_blocks.0.resnets.0/conv1`), so a missing or
 * mis-shaped weight points at its module.
 */
export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'bool';
export type Dim = number | string;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'graph'; value: SubgraphIR };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  graph: (value: SubgraphIR): Attr => ({ kind: 'graph', value }),
};

/**
 * A control-flow body (Scan, Loop). The weights its nodes read are ITS initializers (onnxruntime's layout and
 * pre-packing passes, NCHWc convolutions above all, only rewrite a subgraph's own constant initializers: with
 * the weights in the outer graph, every convolution in a body fell back to the plain NCHW kernel). Small
 * constants and every other outer value are read from the enclosing graph by name (ONNX outer scope).
 */
export interface SubgraphIR {
  name: string;
  nodes: NodeIR[];
  initializers: InitializerIR[];
  inputs: ValueInfoIR[];
  outputs: ValueInfoIR[];
}

/** Every initializer of `graph` and of its control-flow bodies (weights to write, weights used). */
export function allInitializers(graph: { nodes: NodeIR[]; initializers: InitializerIR[] }): InitializerIR[] {
  const out = [...graph.initializers];
  for (const node of graph.nodes) {
    for (const a of Object.values(node.attrs)) if (a.kind === 'graph') out.push(...allInitializers(a.value));
  }
  return out;
}

export interface NodeIR {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface ValueInfoIR {
  name: string;
  elemType: ElemType;
  shape: Dim[];
}

/** How a stored weight becomes an initializer: optional 2-D transpose, then a reshape to `shape`. */
export interface WeightSource {
  kind: 'weight';
  view: TensorView;
  transpose: boolean;
  /** Absent = floats in the graph's type; the int8 plan stores a weight as int8 values + per-channel scales. */
  encoding?: WeightEncoding;
}

export interface ConstSource {
  kind: 'const';
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export interface InitializerIR {
  name: string;
  /** For weights: the graph's float type (float32 or float16), or the int8 encoding's. Constants keep their own type. */
  elemType: ElemType;
  shape: number[];
  source: WeightSource | ConstSource;
}

export interface GraphIR {
  name: string;
  floatType: 'float32' | 'float16';
  nodes: NodeIR[];
  initializers: InitializerIR[];
  inputs: ValueInfoIR[];
  outputs: ValueInfoIR[];
  /** Opset imports: '' (ai.onnx) and 'com.microsoft' when used. */
  opsets: Record<string, number>;
  metadata: Record<string, string>;
}

export const ONNX_OPSET = 17;

export class GraphBuilder {
  private nodes: NodeIR[] = [];
  private readonly inits = new Map<string, InitializerIR>();
  /** The weights of the body being built (subgraph()), which own the weights their nodes read. */
  private bodyInits: Map<string, InitializerIR> | undefined;
  /** Weight initializer name → the body that owns it ('' = the main graph), to refuse sharing across bodies. */
  private readonly weightOwner = new Map<string, string>();
  private bodyName = '';
  private readonly inputs: ValueInfoIR[] = [];
  private readonly outputs: ValueInfoIR[] = [];
  private readonly constCache = new Map<string, string>();
  private readonly usedNames = new Set<string>();
  private readonly scopes: string[] = [];
  private readonly domains = new Set<string>();
  private counter = 0;
  readonly metadata: Record<string, string> = {};

  constructor(
    readonly name: string,
    readonly floatType: 'float32' | 'float16' = 'float32',
    /** How `layers.multiHeadAttention` computes attention in this graph (per provider, attention-plan.ts). */
    readonly attention: AttentionPlan = FUSED_ATTENTION,
    /** How `trig-plan.sinCos` computes sin and cos in this graph (per provider, trig-plan.ts). */
    readonly trig: TrigPlan = 'native',
    /** How `layers.groupNorm` computes its statistics in this graph (per provider, norm-plan.ts). */
    readonly norm: NormPlan = 'instance',
    /** How `layers.linear` and `layers.conv2d` multiply in this graph (quant-plan.ts): floats, or the labelled int8 option. */
    readonly quant: QuantPlan = 'float',
    /** How `layers.conv2d` computes float 3×3 convolutions in this graph (per provider, conv-plan.ts). */
    readonly conv: ConvPlan = 'direct',
    /** Which 3×3 layers that plan takes: the family's channel range (conv-plan.ts; the UNet's by default). */
    readonly winogradLayers: WinogradLayers = UNET_WINOGRAD_LAYERS,
  ) {}

  /** Runs `fn` with node names prefixed by `scope` (joined with '.'), e.g. the canonical module path. */
  scope<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  get currentScope(): string {
    return this.scopes.filter((s) => s.length > 0).join('.');
  }

  input(name: string, elemType: ElemType, shape: Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares `value` as a graph output called `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, elemType: ElemType, shape: Dim[]): void {
    let v = value;
    if (v !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', domain: '', name: `output/${name}`, inputs: [value], outputs: [name], attrs: {} });
      v = name;
    }
    this.outputs.push({ name: v, elemType, shape });
  }

  /**
   * A stored weight as an initializer named after its canonical key. `transpose` swaps a 2-D matrix
   * ([out,in] → [in,out] for MatMul); `shape` reshapes (same element count), e.g. [C] → [C,1,1].
   * Asking twice for the same weight with the same layout returns the same initializer.
   */
  weight(view: TensorView, opts: { transpose?: boolean; shape?: number[]; encoding?: WeightEncoding } = {}): string {
    const transpose = opts.transpose ?? false;
    const encoding = opts.encoding ?? 'float';
    if (transpose && view.shape.length !== 2) {
      throw new Error(`weight ${view.name}: transpose needs a 2-D tensor, got [${view.shape.join(',')}]`);
    }
    if (isInt8Encoding(encoding)) {
      const laidOut = isConvEncoding(encoding) ? !transpose && view.shape.length === 4 : transpose;
      if (!laidOut || opts.shape || this.floatType !== 'float32') {
        throw new Error(`weight ${view.name}: the int8 encodings are for transposed Linear weights and 4-D conv kernels in float32 graphs`);
      }
    }
    if (encoding === 'winograd' && (transpose || opts.shape || !takesWinograd(view.shape, 1, this.winogradLayers))) {
      throw new Error(`weight ${view.name}: the Winograd encoding is for 3×3 conv kernels the conv plan takes (conv-plan.ts)`);
    }
    const base = transpose ? [view.shape[1], view.shape[0]] : view.shape;
    const shape = encoding === 'float' ? opts.shape ?? base : encoding === 'winograd' ? winogradKernelShape(base) : encodedShape(base, encoding);
    if (encoding === 'float' && count(shape) !== count(view.shape)) {
      throw new Error(`weight ${view.name}: cannot view [${view.shape.join(',')}] as [${shape.join(',')}]`);
    }
    let name = view.name + (transpose ? '.T' : '') + encodingSuffix(encoding) + (opts.shape ? `#${shape.join('x')}` : '');
    const owner = this.weightOwner.get(name);
    if (owner !== undefined) {
      // The main graph's weights are visible in every body; a body's are visible only inside it.
      if (owner === '' || owner === this.bodyName) return name;
      throw new Error(`graph ${this.name}: weight ${name} is read in ${owner} and in ${this.bodyName || 'the main graph'}; a weight belongs to one body`);
    }
    if (this.usedNames.has(name)) name = this.fresh(name);
    this.claim(name);
    const elemType = encoding === 'int8' || encoding === 'int8-conv' ? 'int8' : encoding === 'float' || encoding === 'winograd' ? this.floatType : 'float32';
    const source: WeightSource = encoding === 'float' ? { kind: 'weight', view, transpose } : { kind: 'weight', view, transpose, encoding };
    const init: InitializerIR = { name, elemType, shape, source };
    (this.bodyInits ?? this.inits).set(name, init);
    this.weightOwner.set(name, this.bodyInits ? this.bodyName : '');
    return name;
  }

  /** A float constant in the graph's float type (stored as float32 here, converted on emit). */
  constFloat(values: ArrayLike<number>, shape: number[], hint = 'const', shareAs?: string): string {
    const data = Float32Array.from(values);
    if (data.length !== count(shape)) throw new Error(`constFloat ${hint}: ${data.length} values for [${shape}]`);
    // Small constants are shared by value; a larger one by the name its caller gives (`shareAs`), e.g. a fixed
    // transform every layer of a kind reads.
    const key = shareAs ? `named:${shareAs}` : data.length <= 16 ? `f:${shape.join('x')}:${Array.from(data).join(',')}` : undefined;
    const hit = key && this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh(`${this.currentScope ? this.currentScope + '/' : ''}${hint}`);
    this.claim(name);
    this.inits.set(name, { name, elemType: this.floatType, shape, source: { kind: 'const', data } });
    if (key) this.constCache.set(key, name);
    return name;
  }

  scalar(value: number): string {
    return this.constFloat([value], [], 'scalar');
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  i64(values: number[]): string {
    const key = `i:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh(`i64_${values.join('_').replace(/-/g, 'm')}`.slice(0, 60));
    this.claim(name);
    this.inits.set(name, { name, elemType: 'int64', shape: [values.length], source: { kind: 'const', data: BigInt64Array.from(values.map(BigInt)) } });
    this.constCache.set(key, name);
    return name;
  }

  /** Adds one node and returns its first output. `name` is scoped; empty-string inputs are optional inputs left out. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { name?: string; domain?: string } = {}): string {
    return this.opN(opType, inputs, 1, attrs, opts)[0];
  }

  opN(
    opType: string,
    inputs: string[],
    numOutputs: number,
    attrs: Record<string, Attr> = {},
    opts: { name?: string; domain?: string } = {},
  ): string[] {
    const domain = opts.domain ?? '';
    if (domain) this.domains.add(domain);
    const local = opts.name ?? opType;
    const name = this.freshNode(this.currentScope ? `${this.currentScope}/${local}` : local);
    const outputs: string[] = [];
    for (let i = 0; i < numOutputs; i++) {
      const out = this.fresh(numOutputs === 1 ? `${name}:out` : `${name}:out${i}`);
      this.claim(out);
      outputs.push(out);
    }
    this.nodes.push({ opType, domain, name, inputs, outputs, attrs });
    return outputs;
  }

  /**
   * Builds a body graph: `fn` gets the body's input names and returns its outputs; the nodes it adds go to the
   * body, not to this graph. Names stay unique across the main graph and every body (one name space), so a
   * body can read any outer value — weights above all — without shadowing.
   */
  subgraph(name: string, inputs: Array<{ hint: string; elemType: ElemType; shape: Dim[] }>, fn: (inputs: string[]) => Array<{ value: string; elemType: ElemType; shape: Dim[] }>): SubgraphIR {
    const outer = { nodes: this.nodes, inits: this.bodyInits, name: this.bodyName };
    if (outer.inits) throw new Error(`graph ${this.name}: nested bodies are not supported (${name} inside ${outer.name})`);
    const body: NodeIR[] = [];
    const inits = new Map<string, InitializerIR>();
    this.nodes = body;
    this.bodyInits = inits;
    this.bodyName = name;
    try {
      const ins = inputs.map((i) => {
        const n = this.fresh(`${this.currentScope ? this.currentScope + '/' : ''}${i.hint}`);
        this.claim(n);
        return { name: n, elemType: i.elemType, shape: i.shape };
      });
      const outs = fn(ins.map((i) => i.name)).map((o, k) => {
        // A body output must be produced inside the body under its own name: an Identity makes it so even
        // when the value is a body input or an outer value.
        const v = this.op('Identity', [o.value], {}, { name: `${name}_out${k}` });
        return { name: v, elemType: o.elemType, shape: o.shape };
      });
      return { name, nodes: body, initializers: [...inits.values()], inputs: ins, outputs: outs };
    } finally {
      this.nodes = outer.nodes;
      this.bodyInits = outer.inits;
      this.bodyName = outer.name;
    }
  }

  build(): GraphIR {
    const opsets: Record<string, number> = { '': ONNX_OPSET };
    for (const d of this.domains) opsets[d] = 1;
    return {
      name: this.name,
      floatType: this.floatType,
      nodes: this.nodes,
      initializers: [...this.inits.values()],
      inputs: this.inputs,
      outputs: this.outputs,
      opsets,
      metadata: { ...this.metadata },
    };
  }

  private readonly nodeNames = new Set<string>();
  private freshNode(base: string): string {
    let n = base;
    let i = 1;
    while (this.nodeNames.has(n)) n = `${base}_${i++}`;
    this.nodeNames.add(n);
    return n;
  }

  private fresh(base: string): string {
    if (!this.usedNames.has(base)) return base;
    let n: string;
    do n = `${base}_${++this.counter}`;
    while (this.usedNames.has(n));
    return n;
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`graph ${this.name}: value name ${name} used twice`);
    this.usedNames.add(name);
  }
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
