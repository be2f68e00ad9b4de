import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchModels, randomModelSource } from '../../../bench/model-set';
import { diffStats } from '../../../bench/quality';
import { unetCallOutput } from '../../../bench/suites/full-size-common';
import { parseMotionConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { STARTER_TEXT, STARTER_VAE } from '../../../src/main/engine/starter/starter-model';

/**
 * The precision suite's two model sets (fp32 and the labelled int8 UNet) at a tiny size over one cache root: the
 * int8 UNet is its own entry (a cache built for fp32 must never be read as int8), text encoder and VAE are shared,
 * and the int8 call stays near fp32 on identical inputs without being the fp32 graph. Likewise the conv suite's
 * two conv plans (direct and winograd).
 */
const root = mkdtempSync(join(tmpdir(), 'bench-int8-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const blocks = [32, 64];
const source = randomModelSource('tiny-int8', {
  unet: parseUNetConfig({ block_out_channels: blocks, layers_per_block: 1, down_block_types: ['CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D'], cross_attention_dim: 64, attention_head_dim: 4, norm_num_groups: 8 }),
  motion: parseMotionConfig({ block_out_channels: blocks, motion_layers_per_block: 1, motion_num_attention_heads: 4, motion_norm_num_groups: 8, motion_max_seq_length: 32 }),
  vae: STARTER_VAE,
  text: STARTER_TEXT,
});

describe('BenchModels with the int8 plan', () => {
  it('compiles its own UNet entry beside fp32, shares the text encoder and VAE, and stays near fp32', async () => {
    const dir = join(root, 'cache');
    const fp = new BenchModels(source, dir);
    const q = new BenchModels(source, dir, { provider: 'cpu', precision: 'float32', quant: 'int8' });
    try {
      const shape = { batch: 1, frames: 4, latentHeight: 8, latentWidth: 8, tokens: 77 };
      const a = await fp.compileUNet(shape);
      const b = await q.compileUNet(shape);
      expect(dirname(q.unetModelPath(shape))).not.toBe(dirname(fp.unetModelPath(shape)));
      expect(b.reused).toBe(false);
      expect(a.reused).toBe(false);
      const graphOf = (m: BenchModels): string => readFileSync(m.unetModelPath(shape)).toString('latin1');
      expect(graphOf(q)).toContain('DynamicQuantizeMatMul');
      expect(graphOf(fp)).not.toContain('DynamicQuantizeMatMul');
      await fp.prepare(shape);
      await q.prepare(shape);
      expect(readdirSync(dir).filter((f) => !f.startsWith('.')).length).toBe(4); // 2 UNets + 1 text encoder + 1 VAE decoder
      const x = await unetCallOutput(fp, shape, 5);
      const y = await unetCallOutput(q, shape, 5);
      const d = diffStats(y.out, x.out);
      expect(d.maxAbs).toBeGreaterThan(0);
      expect(d.relL2).toBeLessThan(0.15); // verify --precision int8's bound on the fixtures
    } finally {
      await fp.dispose();
      await q.dispose();
    }
  }, 120_000);
});

describe('BenchModels with the conv plans', () => {
  it("compiles the CPU's winograd UNet by default and direct as its own entry; both give the same call", async () => {
    const dir = join(root, 'cache-conv');
    const wino = new BenchModels(source, dir);
    const direct = new BenchModels(source, dir, { provider: 'cpu', precision: 'float32', conv: 'direct' });
    try {
      const shape = { batch: 1, frames: 4, latentHeight: 8, latentWidth: 8, tokens: 77 };
      expect(wino.convPlan()).toBe('winograd');
      await wino.compileUNet(shape);
      await direct.compileUNet(shape);
      expect(dirname(wino.unetModelPath(shape))).not.toBe(dirname(direct.unetModelPath(shape)));
      const graphOf = (m: BenchModels): string => readFileSync(m.unetModelPath(shape)).toString('latin1');
      expect(graphOf(wino)).toContain('.wg4');
      expect(graphOf(direct)).not.toContain('.wg4');
      const x = await unetCallOutput(direct, shape, 5);
      const y = await unetCallOutput(wino, shape, 5);
      const d = diffStats(y.out, x.out);
      expect(d.maxAbs).toBeGreaterThan(0); // another graph
      expect(d.relL2).toBeLessThan(1e-5); // the same convolution (fp32 rounding of the transforms)
    } finally {
      await wino.dispose();
      await direct.dispose();
    }
  }, 120_000);
});

describe('BenchModels VAE decoders under the conv plans (the vae-conv suite)', () => {
  it('compiles the winograd decoder as its own entry; both decode the same image', async () => {
    const dir = join(root, 'cache-vae-conv');
    const wino = new BenchModels(source, dir);
    const direct = new BenchModels(source, dir, { provider: 'cpu', precision: 'float32', conv: 'direct' });
    try {
      const [paths, graphOf] = [{ wino: await wino.compileVae(8, 8), direct: await direct.compileVae(8, 8) }, (p: string): string => readFileSync(p).toString('latin1')];
      expect(dirname(paths.wino)).not.toBe(dirname(paths.direct));
      expect(graphOf(paths.wino)).toContain('.wg4');
      expect(graphOf(paths.direct)).not.toContain('.wg4');
      const z = Float32Array.from({ length: wino.latentChannels * 64 }, (_, i) => Math.sin(i * 0.37));
      const d = diffStats(await wino.decode(z, 8, 8), await direct.decode(z, 8, 8));
      expect(d.maxAbs).toBeGreaterThan(0); // another graph
      expect(d.relL2).toBeLessThan(1e-5); // the same convolutions (fp32 rounding of the transforms)
    } finally {
      await wino.dispose();
      await direct.dispose();
    }
  }, 120_000);
});
