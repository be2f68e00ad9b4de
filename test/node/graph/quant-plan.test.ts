import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchFolders, runXY, verifyFixture } from './graph-test-kit';
import { motionUNetFixture } from './motion-unet-fixture';
import { describe, expect, it } from 'vitest';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { GraphBuilder, allInitializers, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { collectWeights, writeWeightsFile } from '../../../src/main/compiler/graph/emit';
import { conv2d, linear } from '../../../src/main/compiler/graph/layers';
import { convKernelColumns, INT8_WEIGHT_MAX, quantizeColumns } from '../../../src/main/compiler/graph/quant-plan';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { weightBytes } from '../../../src/main/engine/memory/weight-bytes';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { f32Tensor, type HostTensor } from '../../../src/main/engine/runtime/session';
import { StudioError } from '../../../src/shared/errors';
import { INT8_MAX_REL_L2 } from '../../../src/main/verify/run';
import type { Comparison, VerifyTarget } from '../../../src/main/verify/types';

/**
 * The labelled int8 CPU precision: the UNet's Linear layers as DynamicQuantizeMatMul and its convolutions as uint8
 * im2col × int8 MatMulIntegerToFloat, over 7-bit per-output-channel weights.
 * What must hold: the weights written are the quantisation of the stored (or LoRA-merged) values; the graph really
 * runs int8 products where it should and exact ones where it should not; the result stays near the reference.
 */
const scratch = scratchFolders('int8-');

/** Deterministic values with a spread of magnitudes per column (no library RNG needed). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * (1 + (i % 7));
  }
  return out;
}

function relL2(a: Float32Array, ref: Float32Array): number {
  let d = 0;
  let r = 0;
  for (let i = 0; i < ref.length; i++) {
    d += (a[i] - ref[i]) ** 2;
    r += ref[i] ** 2;
  }
  return Math.sqrt(d / r);
}

const runOnce = (graph: GraphIR, x: HostTensor): Promise<Float32Array> => runXY(graph, x, scratch());

describe('int8 plan', () => {
  it('quantises each column symmetrically to 7 bits, within half a step', () => {
    const rows = 48;
    const cols = 5;
    const data = values(rows * cols, 3);
    for (let r = 0; r < rows; r++) data[r * cols + 4] = 0; // an all-zero column
    const { q, scales } = quantizeColumns(data, rows, cols);
    for (let c = 0; c < 4; c++) {
      let max = 0;
      for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(data[r * cols + c]));
      expect(scales[c]).toBeCloseTo(max / INT8_WEIGHT_MAX, 6);
      for (let r = 0; r < rows; r++) {
        expect(Math.abs(q[r * cols + c])).toBeLessThanOrEqual(INT8_WEIGHT_MAX);
        expect(Math.abs(q[r * cols + c] * scales[c] - data[r * cols + c])).toBeLessThanOrEqual(scales[c] / 2 + 1e-7);
      }
      // The largest magnitude maps to ±63 exactly: the range is used.
      expect(Math.max(...Array.from({ length: rows }, (_, r) => Math.abs(q[r * cols + c])))).toBe(INT8_WEIGHT_MAX);
    }
    expect(scales[4]).toBe(1);
    expect(Array.from({ length: rows }, (_, r) => q[r * cols + 4]).every((v) => v === 0)).toBe(true);
  });

  it('writes int8 weights and float scales to the weights file, and runs near the float layer', async () => {
    const [inF, outF, rows] = [96, 40, 64];
    const w = new MemoryWeights().set('fc.weight', [outF, inF], values(outF * inF, 11)).set('fc.bias', [outF], values(outF, 12));
    const build = (plan: 'float' | 'int8') => {
      const g = new GraphBuilder(`fc_${plan}`, 'float32', undefined, undefined, undefined, plan);
      g.output(linear(g, w, 'fc', g.input('x', 'float32', [rows, inF])), 'y', 'float32', [rows, outF]);
      return g.build();
    };
    const q8 = build('int8');
    expect(q8.nodes.map((n) => n.opType).filter((o) => o !== 'Identity')).toEqual(['DynamicQuantizeMatMul']);
    expect(q8.initializers.map((i) => [i.name, i.elemType, i.shape.join('x')])).toEqual([
      ['fc.weight.T.q7', 'int8', `${inF}x${outF}`],
      ['fc.weight.T.q7s', 'float32', `${outF}`],
      ['fc.bias', 'float32', `${outF}`],
    ]);

    // The file holds exactly the quantisation of the transposed weight, and its scales.
    const dir = scratch();
    const index = writeWeightsFile(collectWeights([q8]), { dir, file: 'w.bin', floatType: 'float32' });
    const bytes = readFileSync(join(dir, 'w.bin'));
    const t = new Float32Array(inF * outF);
    const W = w.get('fc.weight')!.readF32();
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) t[i * outF + o] = W[o * inF + i];
    const expected = quantizeColumns(t, inF, outF);
    const qLoc = index.get('fc.weight.T.q7')!;
    const sLoc = index.get('fc.weight.T.q7s')!;
    expect([qLoc.elemType, qLoc.numel, sLoc.elemType, sLoc.numel]).toEqual(['int8', inF * outF, 'float32', outF]);
    expect(new Int8Array(bytes.buffer, bytes.byteOffset + qLoc.offset, qLoc.numel)).toEqual(expected.q);
    expect(new Float32Array(bytes.buffer.slice(bytes.byteOffset + sLoc.offset, bytes.byteOffset + sLoc.offset + sLoc.length))).toEqual(expected.scales);

    const x = f32Tensor(values(rows * inF, 5), [rows, inF]);
    const exact = await runOnce(build('float'), x);
    const approx = await runOnce(q8, x);
    const e = relL2(approx, exact);
    expect(e).toBeGreaterThan(1e-4); // really quantised
    expect(e).toBeLessThan(0.02); // one layer: ≈ 1 % (7-bit weights, 8-bit activations)
  });

  it('makes every Linear and convolution of the motion UNet int8, keeping time embeddings, conv_in and conv_out exact', () => {
    const { w, cfg, motion } = motionUNetFixture();
    const plain = buildUNetGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, motion });
    const q8 = buildUNetGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, motion, quant: 'int8' });
    const scopeOf = (name: string): string => name.replace(/\/[^/]*$/, '');
    const scopes = (g: typeof plain, op: string) => g.nodes.filter((n) => n.opType === op).map((n) => scopeOf(n.name));
    // Linear layers: a MatMul on a stored (transposed) weight in the float graph.
    const weightMatMuls = plain.nodes.filter((n) => n.opType === 'MatMul' && n.inputs[1].endsWith('.weight.T')).map((n) => scopeOf(n.name));
    const exactLinears = weightMatMuls.filter((m) => /time_emb/.test(m));
    expect(exactLinears.length).toBeGreaterThan(2); // time_embedding.linear_1/2 and every resnet's time_emb_proj
    expect(scopes(q8, 'DynamicQuantizeMatMul').sort()).toEqual(weightMatMuls.filter((m) => !/time_emb/.test(m)).sort());
    expect(scopes(q8, 'DynamicQuantizeMatMul').some((m) => /motion_modules/.test(m))).toBe(true);
    // Convolutions: every Conv of the float graph but conv_in and conv_out, 3×3, strided and 1×1 alike.
    const convs = scopes(plain, 'Conv');
    expect(scopes(q8, 'Conv').sort()).toEqual(['conv_in', 'conv_out']);
    expect(scopes(q8, 'MatMulIntegerToFloat').sort()).toEqual(convs.filter((m) => m !== 'conv_in' && m !== 'conv_out').sort());
    expect(convs.some((m) => /downsamplers/.test(m)) && convs.some((m) => /conv_shortcut/.test(m)) && convs.some((m) => /proj_in/.test(m))).toBe(true);
    // What is quantised has int8 values and float scales, and no float copy is left behind.
    const q8Weights = allInitializers(q8).filter((i) => i.source.kind === 'weight');
    expect(q8Weights.filter((i) => i.elemType === 'int8').length).toBe(scopes(q8, 'DynamicQuantizeMatMul').length + scopes(q8, 'MatMulIntegerToFloat').length);
    expect(q8Weights.filter((i) => (i.name.endsWith('.weight.T') && !/time_emb/.test(i.name)) || (i.name.endsWith('.weight') && i.shape.length === 4 && !/^conv_(in|out)\./.test(i.name)))).toEqual([]);
  });

  it('lays a conv kernel out as the im2col weight and runs a strided 3×3 near the float Conv', async () => {
    const [K, C, H] = [24, 16, 9]; // odd size, stride 2, pad 1: the strided views' ends must be right
    const w = new MemoryWeights().set('c.weight', [K, C, 3, 3], values(K * C * 9, 21)).set('c.bias', [K], values(K, 22));
    const cols = convKernelColumns(w.get('c.weight')!.readF32(), [K, C, 3, 3]);
    const W = w.get('c.weight')!.readF32();
    expect(cols[((2 * 3 + 1) * C + 5) * K + 7]).toBe(W[((7 * C + 5) * 3 + 2) * 3 + 1]); // (ky 2, kx 1, c 5) → out 7
    const build = (plan: 'float' | 'int8') => {
      const g = new GraphBuilder(`conv_${plan}`, 'float32', undefined, undefined, undefined, plan);
      g.output(conv2d(g, w, 'c', g.input('x', 'float32', [2, C, H, H]), { stride: 2, pad: 1, inShape: [2, C, H, H] }), 'y', 'float32', [2, K, 5, 5]);
      return g.build();
    };
    const x = f32Tensor(values(2 * C * H * H, 23), [2, C, H, H]);
    const exact = await runOnce(build('float'), x);
    const approx = await runOnce(build('int8'), x);
    const e = relL2(approx, exact);
    expect(e).toBeGreaterThan(1e-4);
    expect(e).toBeLessThan(0.02);
  });

  const verifyCase = (folder: string): Promise<Comparison[]> => verifyFixture(folder, { provider: 'cpu', precision: 'float32', quant: 'int8' }, scratch());

  // A plain and a motion UNet; LoRAs merged into int8 weights (the overlay quantises merged values) and through
  // run-time slots; the whole text-to-video pipeline.
  for (const folder of ['unet_motion', 'lora_stack', 'lora_motion', 'pipeline_animatediff_lcm']) {
    it(`${folder}: int8 stays within the int8 acceptance of diffusers, and is really quantised`, async () => {
      const got = await verifyCase(folder);
      const unet = got.filter((c) => /noise_pred/.test(c.what));
      expect(unet.length).toBeGreaterThan(0);
      for (const c of got) expect(c.relL2, `${c.what}`).toBeLessThanOrEqual(INT8_MAX_REL_L2);
      for (const c of unet) expect(c.relL2, `${c.what}`).toBeGreaterThan(1e-3);
    }, 120_000);
  }
});

describe('int8 plan with the CPU memory plan', () => {
  it('unet_motion: int8 layers inside sample-chunk Scans (one sample per iteration) give the unchunked int8 result', async () => {
    const run = (target: VerifyTarget): Promise<Comparison[]> => verifyFixture('unet_motion', target, scratch());
    const plain = await run({ provider: 'cpu', precision: 'float32', quant: 'int8' });
    const chunked = await run({ provider: 'cpu', precision: 'float32', quant: 'int8', sampleChunks: { maxRows: 1 } });
    expect(chunked.map((c) => c.what)).toEqual(plain.map((c) => c.what));
    // Per-tensor activation scales are computed per Scan iteration (per sample), so chunks change the rounding a
    // little, never the accuracy against diffusers.
    chunked.forEach((c, i) => {
      expect(c.relL2, c.what).toBeLessThanOrEqual(INT8_MAX_REL_L2);
      expect(Math.abs(c.relL2 - plain[i].relL2), c.what).toBeLessThan(0.02);
    });
  }, 120_000);
});

describe('int8 plan: where it runs', () => {
  it('is refused on a GPU provider or with fp16 graphs, with a reason a creator can act on', () => {
    for (const opts of [{ providers: ['webgpu' as const] }, { providers: ['cpu' as const], precision: 'float16' as const }]) {
      let err: unknown;
      try {
        new ModelSet(starterSource(), { cacheRoot: scratch(), quant: 'int8', ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StudioError);
      expect((err as StudioError).code).toBe('INVALID_PARAMS');
      expect((err as StudioError).message).toMatch(/int8 is a CPU precision/);
    }
  });
});

describe('int8 plan: memory', () => {
  it("the job guard's weight bytes are what the compiler writes for the int8 UNet (starter model)", () => {
    const s = starterSource();
    const graph = buildUNetGraph(s.weights.unet, s.configs.unet, { batch: 1, latentHeight: 8, latentWidth: 8, motion: { w: s.weights.motion, cfg: s.configs.motion, frames: 2, groupnorm: 'per_frame' }, quant: 'int8' });
    const index = writeWeightsFile(collectWeights([graph]), { dir: scratch(), file: 'w.bin', floatType: 'float32' });
    const written = [...index.values()].reduce((a, l) => a + l.length, 0);
    const estimated = weightBytes(s, 'unet', { precision: 'float32', quant: 'int8' });
    const fp32 = weightBytes(s, 'unet', { precision: 'float32' });
    // The estimate leaves out the per-channel scales (4 bytes per output channel): within 3 % of what is written.
    expect(Math.abs(written - estimated) / written).toBeLessThan(0.03);
    expect(estimated).toBeLessThan(fp32 / 3);
  });
});
