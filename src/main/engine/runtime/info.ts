import ort from 'onnxruntime-node';
import type { DeviceInfo } from '../../../shared/api';
import { identityModel, PROVIDER_NAMES, providerLabel, type ProviderName } from './session';
import { explainProviderFailure } from './provider-failure';
import { describeWebgpuAdapter, probeShaderF16 } from './webgpu-adapter';

/**
 * What this machine can run, found by trying rather than by reading tables: a provider counts as usable only
 * if a one-node session actually starts on it (a CUDA provider whose libraries or GPU are missing throws at
 * session creation, so that is the honest test).
 */

export interface ProviderInfo {
  name: ProviderName;
  usable: boolean;
  /** Why not, in words a creator can act on: one sentence (provider-failure.ts). */
  reason?: string;
  /** When it was tried and failed: onnxruntime's whole message, for a bug report. */
  detail?: string;
  /** WebGPU: the adapter (vendor, name, shader-f16, memory where known). */
  device?: DeviceInfo;
}

export interface EngineInfo {
  onnxruntimeVersion: string;
  providers: ProviderInfo[];
}

let cached: Promise<EngineInfo> | undefined;

/** Probes once per process (each probe starts a session; CUDA's takes about a second). */
export function engineInfo(opts: { refresh?: boolean } = {}): Promise<EngineInfo> {
  if (!cached || opts.refresh) cached = probe();
  return cached;
}

async function probe(): Promise<EngineInfo> {
  const listed = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
  const model = identityModel();
  const providers: ProviderInfo[] = [];
  for (const name of PROVIDER_NAMES) {
    if (!listed.has(name)) {
      providers.push({ name, usable: false, reason: `${providerLabel(name)} is not part of onnxruntime for ${process.platform}/${process.arch}.` });
      continue;
    }
    try {
      const s = await ort.InferenceSession.create(model, { executionProviders: [name], logSeverityLevel: 4 });
      await s.release();
      providers.push(name === 'webgpu' ? { name, usable: true, device: describeWebgpuAdapter(await probeShaderF16()) } : { name, usable: true });
    } catch (e) {
      providers.push({ name, usable: false, ...explainProviderFailure(name, e, listed.get(name) !== false) });
    }
  }
  return { onnxruntimeVersion: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown', providers };
}
