import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { GraphBuilder, allInitializers, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { convPlanFor, takesWinograd, WINOGRAD_MAX_OUT_CHANNELS, winogradKernel } from '../../../src/main/compiler/graph/conv-plan';
import { collectWeights, writeWeightsFile } from '../../../src/main/compiler/graph/emit';
import { conv2d } from '../../../src/main/compiler/graph/layers';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { weightBytes } from '../../../src/main/engine/memory/weight-bytes';
import { componentCacheKey } from '../../../src/main/engine/models/graph-identity';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { f32Tensor, type HostTensor } from '../../../src/main/engine/runtime/session';
import type { Comparison, VerifyTarget } from '../../../src/main/verify/types';
import { scratchFolders, runXY, verifyFixture } from './graph-test-kit';
import { motionUNetFixture } from './motion-unet-fixture';

/**
 * The CPU's conv plan: 3×3 "same" convolutions as Winograd F(4×4, 3×3) (conv-plan.ts). What must hold: the form
 * computes the convolution (any size, bias, channel counts), the weights file holds the transformed kernels, the
 * plan takes exactly the layers it says it takes, the fixtures still match diffusers through it, and the cache and
 * the memory estimate know its weights are other bytes.
 */
const scratch = scratchFolders('winograd-');

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

const runOnce = (graph: GraphIR, x: HostTensor): Promise<Float32Array> => runXY(graph, x, scratch());

/** A plain-JS direct 3×3 "same" convolution (cross-correlation, as ONNX Conv): the independent reference. */
function convReference(x: Float32Array, [n, c, h, wd]: number[], k: Float32Array, kOut: number, bias: Float32Array | undefined): Float32Array {
  const y = new Float32Array(n * kOut * h * wd);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < kOut; o++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < wd; j++) {
          let s = bias ? bias[o] : 0;
          for (let ci = 0; ci < c; ci++) {
            for (let dy = 0; dy < 3; dy++) {
              const yy = i + dy - 1;
              if (yy < 0 || yy >= h) continue;
              for (let dx = 0; dx < 3; dx++) {
                const xx = j + dx - 1;
                if (xx < 0 || xx >= wd) continue;
                s += x[((b * c + ci) * h + yy) * wd + xx] * k[((o * c + ci) * 3 + dy) * 3 + dx];
              }
            }
          }
          y[((b * kOut + o) * h + i) * wd + j] = s;
        }
      }
    }
  }
  return y;
}

describe('winograd conv plan', () => {
  // Multiples of the 4×4 tile and not (the tiles overhang and are cropped), square and not, with and without bias.
  const cases = [
    { n: 2, c: 16, k: 24, h: 8, w: 8, bias: true },
    { n: 1, c: 20, k: 16, h: 7, w: 10, bias: true },
    { n: 3, c: 32, k: 16, h: 5, w: 3, bias: false },
  ];
  for (const t of cases) {
    it(`computes the 3×3 convolution: ${t.n}×${t.c}×${t.h}×${t.w} → ${t.k} channels${t.bias ? ' + bias' : ''}`, async () => {
      const w = new MemoryWeights().set('c.weight', [t.k, t.c, 3, 3], values(t.k * t.c * 9, 31));
      if (t.bias) w.set('c.bias', [t.k], values(t.k, 32));
      const inShape = [t.n, t.c, t.h, t.w];
      const g = new GraphBuilder('wino', 'float32', undefined, undefined, undefined, 'float', 'winograd');
      g.output(conv2d(g, w, 'c', g.input('x', 'float32', inShape), { inShape }), 'y', 'float32', [t.n, t.k, t.h, t.w]);
      const graph = g.build();
      // Really the Winograd form: no Conv reads the 3×3 kernel; the product reads the transformed one.
      expect(graph.nodes.filter((nd) => nd.opType === 'Conv').every((nd) => !nd.inputs.includes('c.weight'))).toBe(true);
      expect(graph.nodes.some((nd) => nd.opType === 'MatMul' && nd.inputs.includes('c.weight.wg4'))).toBe(true);
      expect(graph.nodes.some((nd) => nd.opType === 'ConvTranspose')).toBe(true);
      const xv = values(t.n * t.c * t.h * t.w, 33);
      const got = await runOnce(graph, f32Tensor(xv, inShape));
      const ref = convReference(xv, inShape, w.get('c.weight')!.readF32(), t.k, t.bias ? w.get('c.bias')!.readF32() : undefined);
      let maxAbs = 0;
      let refMax = 0;
      for (let i = 0; i < ref.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(got[i] - ref[i]));
        refMax = Math.max(refMax, Math.abs(ref[i]));
      }
      expect(refMax).toBeGreaterThan(0.5);
      // fp32 F(4×4, 3×3) rounds to ≈ 10⁻⁵ of the outputs' scale; a wrong kernel or layout is off by O(1).
      expect(maxAbs).toBeLessThan(2e-5 * refMax);
    });
  }

  it('writes the transformed kernel [36, K, C] to the weights file, in place of the 3×3 kernel', () => {
    const [K, C] = [16, 24];
    const w = new MemoryWeights().set('c.weight', [K, C, 3, 3], values(K * C * 9, 41));
    const g = new GraphBuilder('wino', 'float32', undefined, undefined, undefined, 'float', 'winograd');
    g.output(conv2d(g, w, 'c', g.input('x', 'float32', [1, C, 8, 8]), { inShape: [1, C, 8, 8] }), 'y', 'float32', [1, K, 8, 8]);
    const graph = g.build();
    expect(allInitializers(graph).filter((i) => i.source.kind === 'weight').map((i) => [i.name, i.shape.join('x')])).toEqual([['c.weight.wg4', `36x${K}x${C}`]]);
    const dir = scratch();
    const index = writeWeightsFile(collectWeights([graph]), { dir, file: 'w.bin', floatType: 'float32' });
    const loc = index.get('c.weight.wg4')!;
    const bytes = readFileSync(join(dir, 'w.bin'));
    const stored = new Float32Array(bytes.buffer.slice(bytes.byteOffset + loc.offset, bytes.byteOffset + loc.offset + loc.length));
    expect(stored).toEqual(winogradKernel(w.get('c.weight')!.readF32(), [K, C, 3, 3]));
    // The transform's first point is g[0][0]/16 (G's first row is [1/4, 0, 0]): spot-check the layout.
    const W = w.get('c.weight')!.readF32();
    expect(stored[5 * C + 7]).toBeCloseTo(W[(5 * C + 7) * 9] / 16, 7);
  });

  it('takes the 3×3 stride-1 layers with 16…640 outputs and at least 16 inputs; CPU only', () => {
    expect(takesWinograd([320, 320, 3, 3], 1)).toBe(true);
    expect(takesWinograd([WINOGRAD_MAX_OUT_CHANNELS, 1280, 3, 3], 1)).toBe(true);
    expect(takesWinograd([1280, 1280, 3, 3], 1)).toBe(false); // 4× kernel memory where the weights are largest
    expect(takesWinograd([320, 320, 3, 3], 2)).toBe(false); // downsamplers
    expect(takesWinograd([320, 320, 1, 1], 1)).toBe(false);
    expect(takesWinograd([320, 4, 3, 3], 1)).toBe(false); // conv_in
    expect(takesWinograd([4, 320, 3, 3], 1)).toBe(false); // conv_out
    expect(convPlanFor('cpu')).toBe('winograd');
    for (const p of ['webgpu', 'cuda', 'dml', 'coreml'] as const) expect(convPlanFor(p)).toBe('direct');
  });

  it('in the motion UNet: every 3×3 stride-1 conv the plan takes is Winograd; downsamplers, 1×1, conv_in, conv_out stay Conv', () => {
    const { w, cfg, motion } = motionUNetFixture();
    const direct = buildUNetGraph(w, cfg, { batch: 1, latentHeight: 8, latentWidth: 8, motion });
    const wino = buildUNetGraph(w, cfg, { batch: 1, latentHeight: 8, latentWidth: 8, motion, conv: 'winograd' });
    const kernelOf = (nd: { inputs: string[] }): string => nd.inputs[1];
    const directConvs = direct.nodes.filter((nd) => nd.opType === 'Conv').map(kernelOf);
    const shapeOf = (name: string): number[] => w.get(name)!.shape;
    const expectedWino = directConvs.filter((k) => !/downsamplers/.test(k) && takesWinograd(shapeOf(k), 1));
    expect(expectedWino.length).toBeGreaterThan(5);
    const winoProducts = wino.nodes.filter((nd) => nd.opType === 'MatMul' && nd.inputs[0].endsWith('.wg4')).map((nd) => nd.inputs[0].replace(/\.wg4$/, ''));
    expect(winoProducts.sort()).toEqual(expectedWino.sort());
    const stillConv = wino.nodes.filter((nd) => nd.opType === 'Conv' && !/winograd/.test(nd.name)).map(kernelOf);
    expect(stillConv.sort()).toEqual(directConvs.filter((k) => !expectedWino.includes(k)).sort());
    expect(stillConv.some((k) => /downsamplers/.test(k)) && stillConv.includes('conv_in.weight') && stillConv.includes('conv_out.weight')).toBe(true);
    // The fixed transforms are one constant each, read by every Winograd layer.
    expect(allInitializers(wino).filter((i) => /winograd_(bt|at)/.test(i.name)).length).toBe(2);
  });

  const verifyCase = (folder: string, target: VerifyTarget): Promise<Comparison[]> => verifyFixture(folder, target, scratch());

  // The UNet with motion, chunked through Scans (the CPU memory plan), kohya LoRAs with 3×3 (LoCon) convs merged
  // into the weights (the overlay must write the transformed merged kernel), and a ControlNet (its encoder's resnets).
  for (const [folder, extra] of [
    ['unet_motion', {}],
    ['unet_motion', { sampleChunks: { maxRows: 1 } }],
    ['lora_kohya_alphas', {}],
    ['controlnet', {}],
  ] as const) {
    it(`${folder}${'sampleChunks' in extra ? ' (one sample per Scan iteration)' : ''}: Winograd and direct both hold to diffusers`, async () => {
      const wino = await verifyCase(folder, { provider: 'cpu', precision: 'float32', conv: 'winograd', ...extra });
      const direct = await verifyCase(folder, { provider: 'cpu', precision: 'float32', conv: 'direct', ...extra });
      expect(wino.length).toBeGreaterThan(0);
      expect(wino.map((c) => c.what)).toEqual(direct.map((c) => c.what));
      for (const c of wino) expect(c.pass, `${c.what}: ${c.note ?? ''} rel ${c.relL2}`).toBe(true);
      // Not the same graph: the transforms round differently (within the verify tolerance).
      expect(wino.some((c, i) => c.maxAbs !== direct[i].maxAbs)).toBe(true);
    }, 120_000);
  }

  it('has its own cache entry and its own weight bytes', () => {
    const s = starterSource();
    const settings = { precision: 'float32' as const, groupnorm: 'per_frame' as const, loraRank: 0 };
    const direct = componentCacheKey(s, 'unet', settings);
    const wino = componentCacheKey(s, 'unet', { ...settings, conv: 'winograd' });
    expect(wino.options).toEqual({ ...(direct.options as Record<string, unknown>), conv: 'winograd' });
    expect(componentCacheKey(s, 'text_encoder', { ...settings, conv: 'winograd' })).toEqual(componentCacheKey(s, 'text_encoder', settings));
    // The estimate: what the compiler writes for the Winograd UNet (starter model).
    const graph = buildUNetGraph(s.weights.unet, s.configs.unet, { batch: 1, latentHeight: 8, latentWidth: 8, motion: { w: s.weights.motion, cfg: s.configs.motion, frames: 2, groupnorm: 'per_frame' }, conv: 'winograd' });
    const index = writeWeightsFile(collectWeights([graph]), { dir: scratch(), file: 'w.bin', floatType: 'float32' });
    const written = [...index.values()].reduce((a, l) => a + l.length, 0);
    const estimated = weightBytes(s, 'unet', { precision: 'float32', conv: 'winograd' });
    expect(estimated).toBeGreaterThan(weightBytes(s, 'unet', { precision: 'float32' }));
    expect(Math.abs(written - estimated) / written).toBeLessThan(0.01);
  });
});
