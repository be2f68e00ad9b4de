import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SD15_VAE, type VaeConfig } from '../../../src/main/compiler/families/configs';
import { vaeParameterShapes } from '../../../src/main/compiler/families/parameter-shapes';
import { buildVaeDecoderGraph, buildVaeEncoderGraph, vaeTakesWinograd, vaeWinogradWidestInput } from '../../../src/main/compiler/families/vae';
import { STARTER_VAE } from '../../../src/main/engine/starter/starter-model';
import type { GraphIR } from '../../../src/main/compiler/graph/builder';
import { takesWinograd, vaeWinogradLayers } from '../../../src/main/compiler/graph/conv-plan';
import { collectWeights, writeWeightsFile } from '../../../src/main/compiler/graph/emit';
import type { TensorView, WeightSet } from '../../../src/main/compiler/io/tensor';
import { weightBytes } from '../../../src/main/engine/memory/weight-bytes';
import { componentCacheKey } from '../../../src/main/engine/models/graph-identity';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { verifyFixture as verifyCase } from './graph-test-kit';

/**
 * The CPU's conv plan in the VAE (conv-plan.ts, vaeWinogradLayers): the 3×3 stride-1 layers wider than the top level
 * run as Winograd F(4×4, 3×3), the rest stay Conv. What must hold: the graphs have exactly that form, the fixtures
 * still match diffusers through it, and the cache and the memory estimate know its weights are other bytes.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vae-winograd-'));
  dirs.push(d);
  return d;
};

/** A weight set of shapes only (SD1.5 size): building a graph reads shapes, never values. */
function shapesOnly(cfg: VaeConfig): WeightSet {
  const views = new Map<string, TensorView>();
  for (const [name, shape] of vaeParameterShapes(cfg)) {
    const never = (): never => {
      throw new Error(`${name}: values read while building`);
    };
    views.set(name, { name, dtype: 'F32', shape, readF32: never, readRaw: never });
  }
  return { names: () => [...views.keys()], has: (n) => views.has(n), get: (n) => views.get(n) };
}

/** The kernels a graph multiplies in Winograd form, and those it still convolves directly (its own transforms aside). */
function forms(graph: GraphIR): { wino: string[]; conv: string[] } {
  return {
    wino: graph.nodes.filter((nd) => nd.opType === 'MatMul' && nd.inputs[0].endsWith('.wg4')).map((nd) => nd.inputs[0].replace(/\.wg4$/, '')).sort(),
    conv: graph.nodes.filter((nd) => nd.opType === 'Conv' && !/winograd/.test(nd.name)).map((nd) => nd.inputs[1]).sort(),
  };
}

describe('winograd conv plan in the VAE', () => {
  it('takes the layers wider than the top level, whatever their width; never stride 2, 1×1 or the few-channel ends', () => {
    const sd = vaeWinogradLayers(SD15_VAE.block_out_channels[0]);
    expect(takesWinograd([512, 512, 3, 3], 1, sd)).toBe(true);
    expect(takesWinograd([256, 512, 3, 3], 1, sd)).toBe(true); // up_blocks.2.resnets.0.conv1
    expect(takesWinograd([256, 256, 3, 3], 1, sd)).toBe(true);
    expect(takesWinograd([128, 256, 3, 3], 1, sd)).toBe(false); // up_blocks.3.resnets.0.conv1: top level
    expect(takesWinograd([256, 128, 3, 3], 1, sd)).toBe(false); // encoder down_blocks.1.resnets.0.conv1
    expect(takesWinograd([128, 128, 3, 3], 1, sd)).toBe(false);
    expect(takesWinograd([512, 512, 3, 3], 2, sd)).toBe(false);
    expect(takesWinograd([512, 4, 3, 3], 1, sd)).toBe(false); // decoder conv_in
    // The UNet's range is not the VAE's: 512 → 512 at 128 channels of top level vs the UNet's default.
    expect(takesWinograd([1280, 1280, 3, 3], 1, sd)).toBe(true);
    expect(takesWinograd([1280, 1280, 3, 3], 1)).toBe(false);
    // A tiny VAE still has layers above its top level (the fixtures and the starter model exercise the form).
    expect(takesWinograd([16, 16, 3, 3], 1, vaeWinogradLayers(8))).toBe(true);
    expect(takesWinograd([8, 8, 3, 3], 1, vaeWinogradLayers(8))).toBe(false);
  });

  it('SD1.5 decoder: the 512- and 256-channel 3×3 layers with inputs smaller than the top level\'s are Winograd; the rest stays Conv', () => {
    const w = shapesOnly(SD15_VAE);
    const direct = forms(buildVaeDecoderGraph(w, SD15_VAE, { batch: 1, latentHeight: 8, latentWidth: 8 }));
    const wino = forms(buildVaeDecoderGraph(w, SD15_VAE, { batch: 1, latentHeight: 8, latentWidth: 8, conv: 'winograd' }));
    expect(direct.wino).toEqual([]);
    const expected = direct.conv.filter((k) => vaeTakesWinograd(SD15_VAE, k, w.get(k)!.shape));
    expect(wino.wino).toEqual(expected);
    expect(wino.conv).toEqual(direct.conv.filter((k) => !expected.includes(k)));
    // Mid block 4; up_blocks.0: 3 resnets × 2 + upsampler; up_blocks.1: 3 × 2 (its upsampler reads 512 channels at
    // half resolution: as large as the top level's activation); up_blocks.2: all but resnets.0.conv1 (likewise).
    expect(wino.wino.length).toBe(4 + 7 + 6 + 5);
    expect(wino.wino.some((k) => k.startsWith('decoder.up_blocks.3.'))).toBe(false);
    expect(wino.wino).toEqual(expect.arrayContaining(['decoder.up_blocks.0.upsamplers.0.conv.weight', 'decoder.up_blocks.2.resnets.0.conv2.weight']));
    expect(wino.conv).toEqual(
      expect.arrayContaining([
        'decoder.conv_in.weight',
        'decoder.conv_out.weight',
        'post_quant_conv.weight',
        'decoder.up_blocks.3.resnets.0.conv1.weight',
        'decoder.up_blocks.2.upsamplers.0.conv.weight',
        'decoder.up_blocks.1.upsamplers.0.conv.weight',
        'decoder.up_blocks.2.resnets.0.conv1.weight',
      ]),
    );
  });

  it('SD1.5 encoder: the same layers Winograd; the stride-2 downsamplers stay Conv', () => {
    const w = shapesOnly(SD15_VAE);
    const direct = forms(buildVaeEncoderGraph(w, SD15_VAE, { batch: 1, height: 64, width: 64 }));
    const wino = forms(buildVaeEncoderGraph(w, SD15_VAE, { batch: 1, height: 64, width: 64, conv: 'winograd' }));
    const expected = direct.conv.filter((k) => !/downsamplers/.test(k) && takesWinograd(w.get(k)!.shape, 1, vaeWinogradLayers(128)));
    expect(expected.every((k) => vaeTakesWinograd(SD15_VAE, k, w.get(k)!.shape))).toBe(true);
    expect(wino.wino).toEqual(expected);
    // down_blocks.1: 3 of 4 (conv1 reads 128), .2: 4, .3: 4, mid: 4.
    expect(wino.wino.length).toBe(3 + 4 + 4 + 4);
    expect(wino.conv.filter((k) => /downsamplers/.test(k)).length).toBe(3);
  });

  it('knows the widest Winograd input per output pixel, which sizes the estimate\'s transient term', () => {
    // SD1.5 decoder and encoder: the 256-channel convs at half resolution (¼ of the pixels).
    expect(vaeWinogradWidestInput(SD15_VAE, 'decoder')).toBe(256 / 4);
    expect(vaeWinogradWidestInput(SD15_VAE, 'encoder')).toBe(256 / 4);
    // Starter [16, 32, 32, 32]: 32 channels at half resolution.
    expect(vaeWinogradWidestInput(STARTER_VAE, 'decoder')).toBe(32 / 4);
    // A VAE whose levels are all as wide as the top one has no Winograd layer.
    expect(vaeWinogradWidestInput({ ...SD15_VAE, block_out_channels: [64, 64] }, 'decoder')).toBe(0);
  });

  // Decode and encode from every layout each case ships; vae_override also decodes a pipeline's latents.
  for (const folder of ['vae', 'vae_f8', 'vae_override']) {
    it(`${folder}: Winograd and direct both hold to diffusers`, async () => {
      const wino = await verifyCase(folder, { provider: 'cpu', precision: 'float32', conv: 'winograd' }, scratch());
      const direct = await verifyCase(folder, { provider: 'cpu', precision: 'float32', conv: 'direct' }, scratch());
      expect(wino.length).toBeGreaterThan(1);
      expect(wino.map((c) => c.what)).toEqual(direct.map((c) => c.what));
      for (const c of wino) expect(c.pass, `${c.what}: ${c.note ?? ''} rel ${c.relL2}`).toBe(true);
      // Every comparison ran a Winograd graph (the pipeline decode too): the transforms round differently.
      for (const [i, c] of wino.entries()) expect(c.maxAbs, c.what).not.toBe(direct[i].maxAbs);
    }, 120_000);
  }

  it('has its own cache entries; the estimate counts the transformed kernels the compiler writes', () => {
    const s = starterSource();
    const settings = { precision: 'float32' as const, groupnorm: 'per_frame' as const, loraRank: 0 };
    for (const component of ['vae', 'vae_encoder'] as const) {
      const direct = componentCacheKey(s, component, settings);
      expect(componentCacheKey(s, component, { ...settings, conv: 'direct' })).toEqual(direct);
      expect(componentCacheKey(s, component, { ...settings, conv: 'winograd' }).options).toEqual({ ...(direct.options as Record<string, unknown> | undefined), conv: 'winograd' });
    }
    const cfg = s.configs.vae;
    const written = (conv: 'direct' | 'winograd', encoder: boolean): number => {
      const graph = encoder
        ? buildVaeEncoderGraph(s.weights.vae, cfg, { batch: 1, height: 64, width: 64, conv })
        : buildVaeDecoderGraph(s.weights.vae, cfg, { batch: 1, latentHeight: 8, latentWidth: 8, conv });
      const index = writeWeightsFile(collectWeights([graph]), { dir: scratch(), file: 'w.bin', floatType: 'float32' });
      return [...index.values()].reduce((a, l) => a + l.length, 0);
    };
    for (const [component, encoder] of [['vae', false], ['vae_encoder', true]] as const) {
      // The estimate counts the whole VAE for either graph; what the plan adds must be exactly what it writes more.
      const extra = written('winograd', encoder) - written('direct', encoder);
      expect(extra).toBeGreaterThan(0);
      expect(weightBytes(s, component, { precision: 'float32', conv: 'winograd' }) - weightBytes(s, component, { precision: 'float32', conv: 'direct' })).toBe(extra);
      expect(weightBytes(s, component, { precision: 'float16', conv: 'winograd' }) - weightBytes(s, component, { precision: 'float16' })).toBe(extra / 2);
    }
  });
});
