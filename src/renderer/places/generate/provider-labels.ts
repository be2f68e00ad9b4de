import type { ProviderName } from '../../../shared/domain/generation';

export const PROVIDER_LABELS: Record<ProviderName, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };
