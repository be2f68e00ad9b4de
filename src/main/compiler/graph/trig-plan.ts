import type { ProviderName } from '../../../shared/domain/generation';
import { attr, type GraphBuilder } from './builder';

/**
 * How a graph computes sin and cos (the UNet's and ControlNet's sinusoidal timestep embedding), chosen per
 * execution provider when the graph is compiled.
 *
 * * `native` — the ONNX Sin and Cos ops. onnxruntime's CPU (and CUDA) kernels are accurate to an ulp or two.
 * * `exact` — Cody–Waite range reduction to [−π/4, π/4] and Taylor polynomials, from Floor, Abs, Mul, Add and Sub
 *   only: ops that are correctly rounded on every provider. Used on **WebGPU**: WGSL (like Vulkan)
 *   only promises sin/cos to an absolute 2⁻¹¹ inside [−π, π] and nothing outside it, and SwiftShader's are off by
 *   1.9e-4 across that range (CPU: 7e-8). The timestep embedding feeds every resnet, so that error reached the
 *   ControlNet's mid residual as 2.1e-4 (bench/gpu/controlnet-webgpu.md). The embedding is one row of
 *   `dim / 2` values per call, so the ~30 extra elementwise nodes cost nothing measurable.
 */
export type TrigPlan = 'native' | 'exact';

/** The sin/cos the compiler emits for graphs that will run on `provider`. */
export function trigPlanFor(provider: ProviderName): TrigPlan {
  return provider === 'webgpu' ? 'exact' : 'native';
}

// π/2 in three parts for Cody–Waite reduction: P1 and P2 have 12 significant bits each, so k·P1 and k·P2 are
// exact in float32 for integer |k| < 2¹² (|x| up to ~6400: timestep × frequency is at most 1000 here).
const HALF_PI = Math.PI / 2;
const P1 = Math.floor(HALF_PI * 2 ** 11) / 2 ** 11;
const P2 = Math.floor((HALF_PI - P1) * 2 ** 23) / 2 ** 23;
const P3 = Math.fround(HALF_PI - P1 - P2);

/** sin(x) and cos(x) of a float32 tensor `x`, elementwise, computed as `plan` says. */
export function sinCos(g: GraphBuilder, x: string, plan: TrigPlan): { sin: string; cos: string } {
  if (plan === 'native') return { sin: g.op('Sin', [x], {}, { name: 'sin' }), cos: g.op('Cos', [x], {}, { name: 'cos' }) };
  // float32 constants whatever the graph's float type (the embedding is computed in float32, then cast).
  const c = (v: number, name: string): string => g.op('Constant', [], { value_float: attr.float(v) }, { name });
  const mul = (a: string, b: string, name: string): string => g.op('Mul', [a, b], {}, { name });
  const add = (a: string, b: string, name: string): string => g.op('Add', [a, b], {}, { name });
  const sub = (a: string, b: string, name: string): string => g.op('Sub', [a, b], {}, { name });
  // k = round(x / (π/2)), r = x − k·π/2 in [−π/4, π/4].
  const k = g.op('Floor', [add(mul(x, c(1 / HALF_PI, 'inv_half_pi'), 'x_quarters'), c(0.5, 'half'), 'x_round')], {}, { name: 'k' });
  let r = sub(x, mul(k, c(P1, 'p1'), 'k_p1'), 'r1');
  r = sub(r, mul(k, c(P2, 'p2'), 'k_p2'), 'r2');
  r = sub(r, mul(k, c(P3, 'p3'), 'k_p3'), 'r3');
  const r2 = mul(r, r, 'r_sq');
  // Horner in r²; truncation error below 2e-9 on [−π/4, π/4].
  const horner = (coeffs: number[], name: string): string => {
    let acc = c(coeffs[0], `${name}_c0`);
    for (let i = 1; i < coeffs.length; i++) acc = add(mul(acc, r2, `${name}_h${i}`), c(coeffs[i], `${name}_c${i}`), `${name}_a${i}`);
    return acc;
  };
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const s = mul(r, horner([1 / fact(9), -1 / fact(7), 1 / fact(5), -1 / fact(3), 1], 'sin_poly'), 'sin_r');
  const co = horner([-1 / fact(10), 1 / fact(8), -1 / fact(6), 1 / fact(4), -1 / fact(2), 1], 'cos_poly');
  // Quadrant q = k mod 4: sin(r + qπ/2) = s·cos(qπ/2) + c·sin(qπ/2), cos(r + qπ/2) = c·cos(qπ/2) − s·sin(qπ/2).
  const q = sub(k, mul(g.op('Floor', [mul(k, c(0.25, 'quarter'), 'k_quarter')], {}, { name: 'k_div4' }), c(4, 'four'), 'k_div4_x4'), 'q');
  // cos(qπ/2) = |q − 2| − 1 and sin(qπ/2) = 1 − |q − 1| for q in 0…3: exact, and no int64 Cast or Gather (WebGPU
  // would leave an int64 Cast to the CPU).
  const cq = sub(g.op('Abs', [sub(q, c(2, 'two'), 'q_m2')], {}, { name: 'q_m2_abs' }), c(1, 'one'), 'cos_q');
  const sq = sub(c(1, 'one_s'), g.op('Abs', [sub(q, c(1, 'one_q'), 'q_m1')], {}, { name: 'q_m1_abs' }), 'sin_q');
  return {
    sin: add(mul(s, cq, 'sin_s'), mul(co, sq, 'sin_c'), 'sin'),
    cos: sub(mul(co, cq, 'cos_c'), mul(s, sq, 'cos_s'), 'cos'),
  };
}
