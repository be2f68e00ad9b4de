import type { DeviceInfo } from '../../../shared/api';
import type { PrecisionChoice, ProviderName } from '../../../shared/domain/generation';
import { providerLabel } from './session';

/**
 * Precision follows the device: fp16 graphs only where the device runs them — CUDA, DirectML, and WebGPU
 * adapters with shader-f16 — else fp32 (the CPU provider, CoreML, WebGPU without shader-f16, where an fp16 graph
 * fails at its first Gather). The Settings override (`fp16` / `fp32`) wins where the device can run it; `int8`
 * (fp32 graphs with int8 UNet Linear and conv layers) where the provider is the CPU.
 */
export interface PrecisionDecision {
  precision: 'float32' | 'float16';
  /** Present when the UNet's Linear and conv layers run as int8 products (compiler/graph/quant-plan.ts): CPU only. */
  quant?: 'int8';
  /** One sentence for the job's notes. */
  why: string;
}

export function choosePrecision(provider: ProviderName, device: DeviceInfo | undefined, choice: PrecisionChoice = 'auto'): PrecisionDecision {
  const label = providerLabel(provider);
  const f16 = provider === 'cuda' || provider === 'dml' || (provider === 'webgpu' && device?.shaderF16 === true);
  const whyNot = provider === 'webgpu' ? `the WebGPU adapter${device ? ` (${device.name})` : ''} has no shader-f16` : `${label} runs fp32 graphs`;
  if (choice === 'fp32') return { precision: 'float32', why: `fp32 on ${label} (chosen in Settings).` };
  if (choice === 'int8') {
    if (provider === 'cpu') return { precision: 'float32', quant: 'int8', why: `int8 on ${label} (chosen in Settings): the UNet's linear and convolution layers run as int8 products — faster, approximate.` };
    // onnxruntime's int8 products are CPU kernels: on a GPU they would run on the CPU, with copies both ways.
    const auto = choosePrecision(provider, device, 'auto');
    return { precision: auto.precision, why: `${auto.precision === 'float16' ? 'fp16' : 'fp32'} on ${label}: int8 was chosen in Settings, but it is a CPU precision.` };
  }
  if (choice === 'fp16') {
    return f16 ? { precision: 'float16', why: `fp16 on ${label} (chosen in Settings).` } : { precision: 'float32', why: `fp32 on ${label}: fp16 was chosen in Settings, but ${whyNot}.` };
  }
  return f16
    ? { precision: 'float16', why: `fp16 on ${label}${provider === 'webgpu' ? ' (the adapter has shader-f16)' : ''}.` }
    : { precision: 'float32', why: `fp32 on ${label}${provider === 'webgpu' ? ` (${whyNot})` : ''}.` };
}
