import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attentionPlanFor, DEFAULT_MAX_SCORE_BYTES, queryRowsPerSlice, type AttentionPlan } from '../../../src/main/compiler/graph/attention-plan';
import { GraphBuilder, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { multiHeadAttention } from '../../../src/main/compiler/graph/layers';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import type { ProviderName } from '../../../src/shared/domain/generation';
import { noiseArray } from '../../../bench/model-set';
import { webgpuAvailable } from '../webgpu-device';

/**
 * The attention the compiler emits per provider: fused MultiHeadAttention everywhere but WebGPU, where it is
 * MatMul/Softmax/MatMul over query slices (onnxruntime 1.30's WebGPU MHA is wrong on 4-wide subgroups,
 * bench/gpu/mha-subgroup-defect.md). Both must equal softmax(QKᵀ/√d)V computed here in float64.
 */

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const gpu = await webgpuAvailable();

const B = 2, S = 40, T = 37, H = 2, D = 8, C = H * D;

// Values in [-2, 2): scores spread enough that a wrong key shows.
const q = noiseArray(B * S * C, 1).map((x) => 2 * x), k = noiseArray(B * T * C, 2).map((x) => 2 * x), v = noiseArray(B * T * C, 3).map((x) => 2 * x);

function reference(): Float64Array {
  const out = new Float64Array(B * S * C);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < S; i++) {
    const sc = new Float64Array(T);
    let m = -Infinity;
    for (let j = 0; j < T; j++) {
      let d = 0;
      for (let c = 0; c < D; c++) d += q[(b * S + i) * C + h * D + c] * k[(b * T + j) * C + h * D + c];
      sc[j] = d / Math.sqrt(D);
      m = Math.max(m, sc[j]);
    }
    let sum = 0;
    for (let j = 0; j < T; j++) sum += (sc[j] = Math.exp(sc[j] - m));
    for (let c = 0; c < D; c++) {
      let o = 0;
      for (let j = 0; j < T; j++) o += sc[j] * v[(b * T + j) * C + h * D + c];
      out[(b * S + i) * C + h * D + c] = o / sum;
    }
  }
  return out;
}
const ref = reference();

function graph(plan: AttentionPlan): GraphIR {
  const g = new GraphBuilder('attn', 'float32', plan);
  const ins = [g.input('q', 'float32', [B, S, C]), g.input('k', 'float32', [B, T, C]), g.input('v', 'float32', [B, T, C])] as const;
  g.output(multiHeadAttention(g, ...ins, H, { batch: B, queries: S, keys: T, channels: C }), 'y', 'float32', [B, S, C]);
  return g.build();
}

async function maxError(plan: AttentionPlan, provider: ProviderName): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'attn-'));
  dirs.push(dir);
  const { modelPath } = emitModel(graph(plan), { dir, modelFile: 'attn.onnx' });
  const s = await createSession(modelPath, { providers: [provider] });
  try {
    expect(s.provider).toBe(provider);
    const y = (await s.run({ q: f32Tensor(q, [B, S, C]), k: f32Tensor(k, [B, T, C]), v: f32Tensor(v, [B, T, C]) })).y.data as Float32Array;
    return y.reduce((m, x, i) => Math.max(m, Math.abs(x - ref[i])), 0);
  } finally {
    await s.dispose();
  }
}

// 14 query rows of scores per slice: 3 slices of 40 rows (14, 14, 12).
const SMALL: AttentionPlan = { kind: 'chunked', maxScoreBytes: B * H * T * 4 * 14 };

describe('attention per provider', () => {
  it('is fused MultiHeadAttention except on WebGPU', () => {
    expect(attentionPlanFor('cpu')).toEqual({ kind: 'fused' });
    expect(attentionPlanFor('cuda')).toEqual({ kind: 'fused' });
    expect(attentionPlanFor('webgpu')).toEqual({ kind: 'chunked', maxScoreBytes: DEFAULT_MAX_SCORE_BYTES });
  });

  it('slices the queries so one slice of scores fits the budget', () => {
    const nodes = graph(SMALL).nodes;
    expect(nodes.some((n) => n.opType === 'MultiHeadAttention')).toBe(false);
    expect(nodes.filter((n) => n.opType === 'Softmax')).toHaveLength(3);
    expect(queryRowsPerSlice(SMALL, { batch: B, heads: H, queries: S, keys: T }, 4)).toBe(14);
    // Everything fits: one slice, no Slice node.
    expect(graph({ kind: 'chunked', maxScoreBytes: 1e9 }).nodes.filter((n) => n.opType === 'Slice')).toHaveLength(0);
    // 16 frames × 512² with CFG, the largest self-attention: 32 × 8 heads × 4096², fp16 → 128-row slices of 256 MiB.
    const full = { batch: 32, heads: 8, queries: 4096, keys: 4096 };
    expect(queryRowsPerSlice({ maxScoreBytes: DEFAULT_MAX_SCORE_BYTES }, full, 2)).toBe(128);
    expect(queryRowsPerSlice({ maxScoreBytes: DEFAULT_MAX_SCORE_BYTES }, full, 4)).toBe(64);
  });

  it('fused and chunked agree with float64 attention on the CPU', async () => {
    expect(await maxError({ kind: 'fused' }, 'cpu')).toBeLessThan(2e-6);
    expect(await maxError(SMALL, 'cpu')).toBeLessThan(2e-6);
  });

  it.skipIf(!gpu.usable)(`chunked attention is exact on WebGPU ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, async () => {
    expect(await maxError(SMALL, 'webgpu')).toBeLessThan(2e-6);
    expect(await maxError(attentionPlanFor('webgpu'), 'webgpu')).toBeLessThan(2e-6);
  });
});
