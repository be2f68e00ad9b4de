import ort from 'onnxruntime-node';
import { StudioError } from '../../../shared/errors';
import { GraphBuilder } from '../../compiler/graph/builder';
import { encodeModel } from '../../compiler/graph/emit';

/**
 * A tensor that lives in GPU memory (onnxruntime-node 1.30, WebGPU provider), fed to session runs without a
 * host→device copy. What onnxruntime-node allows, found by experiment on WebGPU over SwiftShader
 * (test/node/runtime/device-tensors.test.ts):
 *
 * - A session created with `preferredOutputLocation: 'gpu-buffer'` (or a per-output map) returns outputs with
 *   location 'gpu-buffer'. Node has no WebGPU API of its own, so such outputs are the ONLY way to get a device
 *   buffer: uploading is a run of a one-node Identity session with that option (`uploadToDevice`).
 * - Such a tensor can be fed to any WebGPU session (same or another, mixed with host feeds) and can still be read
 *   after the session that made it is released, while onnxruntime's WebGPU context lives (session.ts keeps it).
 * - But `dispose()` of a tensor whose producing session was released before another session was created and fed
 *   it crashes the process (SIGSEGV). So uploads come from Identity sessions that are never released.
 * - Reading one back with `getData()` / `download` ABORTS the process (a C++ throw across the N-API boundary), so
 *   this module never offers it: results the host needs come from sessions whose outputs stay on the CPU.
 * - Fed to a CPU session, a device tensor is read as host memory — garbage, silently. `session.ts` refuses it.
 * - `dispose()` frees the buffer (location becomes 'none'); a disposed tensor fed again fails with
 *   "Tensor.location is not supported". This wrapper fails earlier with a sentence.
 *
 * Every live device tensor is counted, so tests can prove that none leak.
 */
export type DeviceTensorType = 'float32' | 'float16';

let live = 0;

/** Device tensors made and not yet disposed, in this process. */
export function liveDeviceTensors(): number {
  return live;
}

export class DeviceTensor {
  readonly bytes: number;
  private tensor: ort.Tensor | undefined;

  constructor(tensor: ort.Tensor) {
    if (tensor.location !== 'gpu-buffer') throw new StudioError('INTERNAL', `A device tensor must be on the GPU (got location ${tensor.location}).`);
    this.tensor = tensor;
    this.bytes = tensor.size * (tensor.type === 'float16' ? 2 : 4);
    live++;
  }

  get type(): string {
    return this.ort().type;
  }

  get dims(): readonly number[] {
    return this.ort().dims;
  }

  get disposed(): boolean {
    return this.tensor === undefined;
  }

  /** The onnxruntime tensor, for the session wrapper only. */
  ort(): ort.Tensor {
    if (!this.tensor) throw new StudioError('INTERNAL', 'A GPU-resident tensor was used after it was released (an engine bug: please report it).');
    return this.tensor;
  }

  /** Frees the GPU buffer now (idempotent). */
  dispose(): void {
    if (!this.tensor) return;
    this.tensor.dispose();
    this.tensor = undefined;
    live--;
  }
}

const uploaders = new Map<string, Promise<ort.InferenceSession>>();

/** y = x for one float type and rank, its output kept on the GPU: the upload path. Kept for the process. */
function uploader(type: DeviceTensorType, rank: number): Promise<ort.InferenceSession> {
  const key = `${type}:${rank}`;
  let s = uploaders.get(key);
  if (!s) {
    const g = new GraphBuilder(`upload_${type}_${rank}`);
    const dims = Array.from({ length: rank }, (_, i) => `d${i}`);
    const x = g.input('x', type, dims);
    g.output(g.op('Identity', [x]), 'y', type, dims);
    s = ort.InferenceSession.create(encodeModel(g.build(), new Map()), { executionProviders: ['webgpu'], preferredOutputLocation: 'gpu-buffer', logSeverityLevel: 3 });
    s.catch(() => uploaders.delete(key));
    uploaders.set(key, s);
  }
  return s;
}

/** Copies a host tensor (already in the graph's float type) to the GPU once. WebGPU only. */
export async function uploadToDevice(type: DeviceTensorType, data: Float32Array | Uint16Array, dims: readonly number[]): Promise<DeviceTensor> {
  const session = await uploader(type, dims.length);
  const out = await session.run({ x: new ort.Tensor(type, data, [...dims]) });
  return new DeviceTensor(out.y);
}
