import ort from 'onnxruntime-node';
import { StudioError } from '../../../shared/errors';
import { GraphBuilder } from '../../compiler/graph/builder';
import { encodeModel } from '../../compiler/graph/emit';
import { DeviceTensor, uploadToDevice } from './device-tensor';
import { f16ToF32, f32ToF16 } from './float16';
import { injectedRunFault } from './injected-fault';

/**
 * The only door to onnxruntime. A session is created from a model *path* (external data is mmapped from the
 * graph's folder), on the first provider in the caller's list that works: onnxruntime throws when an
 * execution provider cannot start instead of falling back, so the fallback — and a message saying so — is ours.
 *
 * Callers speak float32: an fp16 graph's float inputs are converted here, and its float outputs come back as
 * float32, so pipelines never branch on precision.
 *
 * On WebGPU a feed may also be a `DeviceTensor` already in GPU memory (`upload`, device-tensor.ts): it goes in
 * without a copy. Every byte that crosses between host and device in `run` and `upload` is counted in
 * `transfers` (on the CPU nothing crosses and nothing is counted).
 */

export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export const PROVIDER_NAMES: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

export type HostTensorType = 'float32' | 'float16' | 'int64' | 'int32';

export interface HostTensor {
  type: HostTensorType;
  dims: number[];
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array;
}

export interface SessionOptions {
  /** Providers to try, in order. Default ['cpu']. */
  providers?: ProviderName[];
  /** Threads of the intra-op pool (default: onnxruntime's choice, one per physical core). */
  intraOpThreads?: number;
  /** Called with a sentence each time a provider could not be used and the next one is tried. */
  onFallback?: (message: string) => void;
  /**
   * onnxruntime's profiler: every node's time goes to `<prefix>_<date>.json`, written when the session is
   * disposed (bench/op-profile.ts reads it). Costs a little per node; for measurements only.
   */
  profileFilePrefix?: string;
  /**
   * onnxruntime's CPU arena (default on). Off, every activation is a plain allocation returned when its last
   * reader ran: the arena grows in doubling regions it never merges or returns, which at full size costs
   * gigabytes above the live set (bench `guidance`).
   */
  cpuMemArena?: boolean;
}

/** A run's feed: host data (copied to the device on a GPU provider) or a tensor already on the device. */
export type Feed = HostTensor | DeviceTensor;

/** Bytes that crossed between host and device through one session (zero on the CPU). */
export interface DeviceTransfers {
  runs: number;
  hostToDevice: number;
  deviceToHost: number;
}

export interface RunOptions {
  /** Only these outputs (default: all). */
  outputs?: string[];
}

export interface EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The provider the session actually runs on. */
  readonly provider: ProviderName;
  /** Why earlier providers in the list were skipped (empty when the first one worked). */
  readonly fallbacks: readonly string[];
  /** Host↔device bytes of this session's runs and uploads so far. */
  readonly transfers: Readonly<DeviceTransfers>;
  /**
   * Runs the graph. Float inputs may be given as float32 to an fp16 graph; float outputs come back as float32.
   * Device tensors are fed as they are (GPU sessions only).
   */
  run(feeds: Record<string, Feed>, opts?: RunOptions): Promise<Record<string, HostTensor>>;
  /**
   * Puts `t` on the device once, in the type input `name` takes, for feeding it to this or another session of
   * the same provider on later runs. Undefined where the provider cannot keep feeds on the device (the CPU, and
   * every provider but WebGPU in onnxruntime-node 1.30): the caller then feeds host data as before.
   */
  upload(name: string, t: HostTensor): Promise<DeviceTensor | undefined>;
  dispose(): Promise<void>;
}

export async function createSession(modelPath: string, opts: SessionOptions = {}): Promise<EngineSession> {
  const providers = opts.providers && opts.providers.length > 0 ? opts.providers : (['cpu'] as ProviderName[]);
  const failures: string[] = [];
  for (const provider of providers) {
    try {
      if (provider === 'webgpu') await keepWebgpuContext();
      const session = await ort.InferenceSession.create(modelPath, sessionOptions(provider, opts));
      return new OrtEngineSession(session, provider, failures);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (isModelProblem(reason)) {
        throw new StudioError('CACHE_CORRUPT', `The compiled model ${modelPath} could not be loaded: ${firstLine(reason)}`, { modelPath, provider });
      }
      const msg = `${providerLabel(provider)} could not be used (${firstLine(reason)})`;
      failures.push(msg);
      const next = providers[providers.indexOf(provider) + 1];
      if (next) opts.onFallback?.(`${msg}; trying ${providerLabel(next)}.`);
    }
  }
  throw new StudioError(
    'PROVIDER_UNAVAILABLE',
    `No execution provider could run ${modelPath}: ${failures.join('; ')}. Choose another device in Settings (the CPU always works).`,
    { modelPath, providers, failures },
  );
}

let webgpuKeeper: Promise<unknown> | undefined;

/**
 * onnxruntime destroys its WebGPU context — and every compiled shader pipeline with it — when the last WebGPU
 * session is released, so the next session compiles all its kernels again (measured on SwiftShader: a tiny
 * CLIP's first run 7–11 s each time, 0.4 s with the context kept). One idle one-node session, never released,
 * keeps the context for the life of the process. A failure here is left to the real session to report.
 */
/** y = x for a float[1]: the smallest model every provider can take (probes, the WebGPU context keeper). */
export function identityModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  const x = g.input('x', 'float32', [1]);
  g.output(g.op('Identity', [x]), 'y', 'float32', [1]);
  return encodeModel(g.build(), new Map());
}

function keepWebgpuContext(): Promise<unknown> {
  webgpuKeeper ??= ort.InferenceSession.create(identityModel(), { executionProviders: ['webgpu'], logSeverityLevel: 4 }).catch(() => {
    webgpuKeeper = undefined;
  });
  return webgpuKeeper;
}

function sessionOptions(provider: ProviderName, opts: SessionOptions): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // Idle pool threads must not spin: UNet, VAE and CLIP sessions share the machine with the UI.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  if (opts.intraOpThreads !== undefined) o.intraOpNumThreads = opts.intraOpThreads;
  if (opts.profileFilePrefix !== undefined) {
    o.enableProfiling = true;
    o.profileFilePrefix = opts.profileFilePrefix;
  }
  // The CPU memory pattern, planned on the first run, is allocated beside the arena that run grew: activations
  // count twice from the second run on. Measured: the starter model at 512²×16 frames with CFG peaks at 1.77 GB
  // instead of 3.21 GB, full-size UNet+motion at 8×32² at 6.18 instead of 7.35 GiB; same speed, same pixels.
  if (provider === 'cpu') o.enableMemPattern = false;
  if (provider === 'cpu' && opts.cpuMemArena === false) o.enableCpuMemArena = false;
  if (provider === 'dml') {
    // DirectML requires both (onnxruntime docs); otherwise it warns and changes them itself.
    o.enableMemPattern = false;
    o.executionMode = 'sequential';
  }
  return o;
}

/** Errors that no other provider would fix: a missing/corrupt model file rather than an unusable provider. */
function isModelProblem(reason: string): boolean {
  return /No such file|does not exist|Load model from .* failed|Protobuf parsing failed|INVALID_PROTOBUF|NO_SUCHFILE|INVALID_GRAPH/i.test(reason);
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 300);
}

/**
 * A failed run as a typed error naming what to change: a lost GPU (the engine restarts: its GPU context is gone)
 * or GPU memory exhausted for this size are told apart from other failures by onnxruntime's / Dawn's / CUDA's words.
 */
export function runFailure(reason: string, provider: ProviderName, cause?: unknown): StudioError {
  const label = providerLabel(provider);
  if (provider !== 'cpu' && /device (was )?lost|DeviceLost|VK_ERROR_DEVICE_LOST|DXGI_ERROR_DEVICE_(REMOVED|RESET|HUNG)/i.test(reason)) {
    return new StudioError('DEVICE_LOST', `The GPU stopped responding on ${label} (device lost). This clip was not made; the engine restarts for the next job. If it happens again, update the GPU driver or choose the CPU in Settings.`, { provider, reason: firstLine(reason) }, { cause });
  }
  if (provider !== 'cpu' && /out of memory|OutOfMemory|\bOOM\b|Failed to allocate|cudaErrorMemoryAllocation|E_OUTOFMEMORY/i.test(reason)) {
    return new StudioError('DEVICE_OUT_OF_MEMORY', `${label} ran out of GPU memory for this size. Try fewer frames, a smaller size, guidance 1 (one UNet pass per step instead of two), or fp16 in Settings.`, { provider, reason: firstLine(reason) }, { cause });
  }
  return new StudioError('INFERENCE_FAILED', `The model failed on ${label}: ${firstLine(reason)}`, { provider }, { cause });
}

export function providerLabel(p: ProviderName): string {
  return { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' }[p];
}

type OrtTensorType = 'float32' | 'float16' | 'int64' | 'int32';

class OrtEngineSession implements EngineSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly inputTypes = new Map<string, string>();
  private disposed = false;
  readonly transfers: DeviceTransfers = { runs: 0, hostToDevice: 0, deviceToHost: 0 };

  constructor(
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly fallbacks: readonly string[],
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    for (const m of session.inputMetadata) if (m.isTensor) this.inputTypes.set(m.name, m.type);
  }

  async run(feeds: Record<string, Feed>, opts: RunOptions = {}): Promise<Record<string, HostTensor>> {
    if (this.disposed) throw new StudioError('INFERENCE_FAILED', 'This model session was already closed.');
    const gpu = this.provider !== 'cpu';
    const ortFeeds: Record<string, ort.Tensor> = {};
    let hostToDevice = 0;
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (!t) throw new StudioError('INFERENCE_FAILED', `The model needs an input "${name}".`, { inputs: this.inputNames });
      if (t instanceof DeviceTensor) {
        // onnxruntime would read the GPU buffer's handle as host memory on any other provider, silently.
        if (this.provider !== 'webgpu') throw new StudioError('INTERNAL', `A GPU-resident tensor was fed to a ${providerLabel(this.provider)} session (input "${name}"): an engine bug, please report it.`);
        ortFeeds[name] = t.ort();
        continue;
      }
      const o = toOrt(t, this.inputTypes.get(name));
      if (gpu) hostToDevice += (o.data as ArrayBufferView).byteLength;
      ortFeeds[name] = o;
    }
    const fetches = opts.outputs ?? [...this.outputNames];
    let result: ort.InferenceSession.ReturnType;
    try {
      const fault = injectedRunFault(this.provider);
      if (fault) throw new Error(fault);
      result = await this.session.run(ortFeeds, fetches);
    } catch (e) {
      throw runFailure(e instanceof Error ? e.message : String(e), this.provider, e);
    }
    const out: Record<string, HostTensor> = {};
    let deviceToHost = 0;
    for (const name of fetches) {
      const t = result[name];
      if (gpu) deviceToHost += (t.data as ArrayBufferView).byteLength;
      out[name] = fromOrt(t);
      t.dispose();
    }
    this.transfers.runs++;
    this.transfers.hostToDevice += hostToDevice;
    this.transfers.deviceToHost += deviceToHost;
    return out;
  }

  async upload(name: string, t: HostTensor): Promise<DeviceTensor | undefined> {
    if (this.provider !== 'webgpu' || this.disposed) return undefined;
    const want = this.inputTypes.get(name);
    if (want !== 'float32' && want !== 'float16') return undefined; // integer feeds are tiny: not worth a buffer
    const o = toOrt(t, want);
    let d: DeviceTensor;
    try {
      d = await uploadToDevice(want, o.data as Float32Array | Uint16Array, t.dims);
    } catch (e) {
      throw runFailure(e instanceof Error ? e.message : String(e), this.provider, e);
    }
    this.transfers.hostToDevice += d.bytes;
    return d;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

function toOrt(t: HostTensor, want: string | undefined): ort.Tensor {
  if (want === 'float16' && t.type === 'float32') return new ort.Tensor('float16', f32ToF16(t.data as Float32Array), t.dims);
  if (want === 'float32' && t.type === 'float16') return new ort.Tensor('float32', f16ToF32(t.data as Uint16Array), t.dims);
  return new ort.Tensor(t.type as OrtTensorType, t.data, t.dims);
}

function fromOrt(t: ort.Tensor): HostTensor {
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32':
      return { type: 'float32', dims, data: t.data as Float32Array };
    case 'float16':
      return { type: 'float32', dims, data: f16ToF32(t.data as Uint16Array) };
    case 'int64':
      return { type: 'int64', dims, data: t.data as BigInt64Array };
    case 'int32':
      return { type: 'int32', dims, data: t.data as Int32Array };
    default:
      throw new StudioError('INFERENCE_FAILED', `The model returned a ${t.type} tensor, which the engine does not handle.`);
  }
}

/** Convenience: a float32 HostTensor. */
export function f32Tensor(data: Float32Array, dims: number[]): HostTensor {
  return { type: 'float32', dims, data };
}

export function i64Tensor(data: BigInt64Array, dims: number[]): HostTensor {
  return { type: 'int64', dims, data };
}
