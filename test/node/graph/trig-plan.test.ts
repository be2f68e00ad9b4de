import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { sinCos, trigPlanFor, type TrigPlan } from '../../../src/main/compiler/graph/trig-plan';
import { timestepFrequencies } from '../../../src/main/compiler/families/unet';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import type { ProviderName } from '../../../src/shared/domain/generation';
import { webgpuAvailable } from '../webgpu-device';

/**
 * The sin/cos the compiler emits per provider: the ONNX ops everywhere but WebGPU, whose sin/cos are only
 * promised to 2⁻¹¹ (SwiftShader's are off by 1.9e-4, which failed the ControlNet's mid residual); there a range
 * reduction and polynomials from correctly rounded ops. Both must equal float64 sin/cos to float32 accuracy.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const gpu = await webgpuAvailable();

// Every timestep × frequency argument the UNet's 320-wide embedding sees (t = 0…1000 in steps of 7), plus
// negative and quadrant-boundary arguments.
const freqs = timestepFrequencies(320, 0);
const args = Float32Array.from([
  ...Array.from({ length: 143 }, (_, i) => i * 7).flatMap((t) => Array.from(freqs, (f) => Math.fround(t * f))),
  ...Array.from({ length: 64 }, (_, i) => Math.fround(((i - 32) * Math.PI) / 4)),
  -999.5, -0.1, 1e-6, 0,
]);

function graph(plan: TrigPlan): GraphIR {
  const g = new GraphBuilder('trig', 'float32', undefined, plan);
  const x = g.input('x', 'float32', [args.length]);
  const { sin, cos } = sinCos(g, x, plan);
  g.output(sin, 'sin', 'float32', [args.length]);
  g.output(cos, 'cos', 'float32', [args.length]);
  return g.build();
}

async function maxError(plan: TrigPlan, provider: ProviderName): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'trig-'));
  dirs.push(dir);
  const { modelPath } = emitModel(graph(plan), { dir, modelFile: 'trig.onnx' });
  const s = await createSession(modelPath, { providers: [provider] });
  try {
    expect(s.provider).toBe(provider);
    const out = await s.run({ x: f32Tensor(args, [args.length]) });
    const sin = out.sin.data as Float32Array, cos = out.cos.data as Float32Array;
    let m = 0;
    args.forEach((a, i) => (m = Math.max(m, Math.abs(sin[i] - Math.sin(a)), Math.abs(cos[i] - Math.cos(a)))));
    return m;
  } finally {
    await s.dispose();
  }
}

describe('sin/cos per provider', () => {
  it('is the ONNX ops except on WebGPU', () => {
    expect(trigPlanFor('cpu')).toBe('native');
    expect(trigPlanFor('cuda')).toBe('native');
    expect(trigPlanFor('webgpu')).toBe('exact');
    expect(graph('exact').nodes.filter((n) => n.opType === 'Sin' || n.opType === 'Cos')).toHaveLength(0);
    expect(graph('native').nodes.filter((n) => n.opType === 'Sin' || n.opType === 'Cos')).toHaveLength(2);
  });

  it('native and exact agree with float64 on the CPU', async () => {
    expect(await maxError('native', 'cpu')).toBeLessThan(2e-7);
    expect(await maxError('exact', 'cpu')).toBeLessThan(4e-7);
  });

  it.skipIf(!gpu.usable)(`exact sin/cos are float32-accurate on WebGPU ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, async () => {
    expect(await maxError('exact', 'webgpu')).toBeLessThan(4e-7);
  });
});
