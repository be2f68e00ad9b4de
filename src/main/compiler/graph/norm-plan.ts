import type { ProviderName } from '../../../shared/domain/generation';

/**
 * How a graph's GroupNorm computes its statistics, chosen per execution provider when the graph is compiled.
 *
 * * `instance` — Reshape → InstanceNormalization: accurate on onnxruntime's CPU kernel and the pattern its
 *   GroupNorm fusion recognises.
 * * `two_pass` — mean, then the mean of the squared deviations, from ReduceMean, Sub, Mul, Add, Sqrt and Div.
 *   Used on **WebGPU**: its InstanceNormalization loses the variance to cancellation when a group's mean is
 *   large against its spread (as a one-pass E[x²] − E[x]² does). Measured on SwiftShader, 16 values of spread
 *   ±0.5 per group: max |Δ| to the CPU 1.2e-7 at mean 0, 6.7e-5 at mean 10, 5.4e-3 at mean 100; subtracting the
 *   mean before the InstanceNormalization did not cure it (1.4e-4 at mean 300), the two-pass form does
 *   (test/gpu/group-norm.test.ts). The UNet's per-frame GroupNorms at the lowest level normalise a handful of
 *   values per group, several of them ill-conditioned (spread near √eps), which magnified that error: the
 *   pipeline_animatelcm_i2v UNet call at t 999 was 1.9e-4 off the CPU (now 4.1e-6) and failed verify. The
 *   decomposition costs one more pass over each GroupNorm's input; only WebGPU graphs pay it.
 */
export type NormPlan = 'instance' | 'two_pass';

/** The GroupNorm form the compiler emits for graphs that will run on `provider`. */
export function normPlanFor(provider: ProviderName): NormPlan {
  return provider === 'webgpu' ? 'two_pass' : 'instance';
}
