/**
 * The tensor table every container reader returns (safetensors, .ckpt zip-pickle, diffusers folders):
 * metadata first, data read lazily by byte range, so a 4 GB checkpoint costs only what is read.
 */
export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

/** One tensor that can be read on demand. `readF32` converts any numeric dtype to float32. */
export interface TensorView extends TensorInfo {
  readF32(): Float32Array;
  /** Raw little-endian bytes in the stored dtype (contiguous, C order). */
  readRaw(): Uint8Array;
}

export type ContainerKind = 'safetensors' | 'ckpt' | 'diffusers-folder' | 'memory';

/** A file (or folder) opened for reading. Names are as stored in the file. */
export interface TensorTable {
  readonly container: ContainerKind;
  readonly path: string;
  readonly metadata: Record<string, string>;
  names(): string[];
  get(name: string): TensorView | undefined;
  close(): void;
}

/**
 * A set of weights under canonical (diffusers) names for one component (unet, vae, text_encoder, motion).
 * Graph builders and LoRA maths consume this; canonicalisers produce it.
 */
export interface WeightSet {
  names(): string[];
  get(name: string): TensorView | undefined;
  has(name: string): boolean;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Float32 tensors held in memory: test fixtures, LoRA-merged weights, synthetic full-size models. */
export class MemoryWeights implements WeightSet {
  private readonly map = new Map<string, TensorView>();

  set(name: string, shape: number[], data: Float32Array | (() => Float32Array)): this {
    if (typeof data !== 'function' && data.length !== numel(shape)) {
      throw new Error(`MemoryWeights.set(${name}): ${data.length} values for shape [${shape.join(',')}]`);
    }
    let cached: Float32Array | undefined = typeof data === 'function' ? undefined : data;
    const read = (): Float32Array => (cached ??= (data as () => Float32Array)());
    this.map.set(name, {
      name,
      dtype: 'F32',
      shape,
      readF32: read,
      readRaw: () => {
        const f = read();
        return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      },
    });
    return this;
  }

  setView(view: TensorView): this {
    this.map.set(view.name, view);
    return this;
  }

  delete(name: string): void {
    this.map.delete(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }
  get(name: string): TensorView | undefined {
    return this.map.get(name);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
}
