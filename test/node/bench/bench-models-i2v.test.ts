import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchModels, noiseArray, randomModelSource } from '../../../bench/model-set';
import { parseMotionConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { imageToVideoMode } from '../../../src/main/engine/pipelines/image-to-video';
import { textToVideo } from '../../../src/main/engine/pipelines/text-to-video';
import { videoToVideoMode } from '../../../src/main/engine/pipelines/video-to-video';
import { STARTER_TEXT, STARTER_VAE } from '../../../src/main/engine/starter/starter-model';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import { DEFAULT_PARAMS, I2V_SCHEDULER } from '../../../src/shared/domain/generation';

/**
 * The bench's BenchModels (what `npm run bench -- modes --full` runs at SD1.5 size) at a tiny size with two
 * layers per block, so the I2V UNet graph really has image-feature inputs: the image encoder runs, its features
 * reach the UNet (zero features give the text-to-video graph's output, real ones change it), and both modes run
 * through the real pipeline.
 */
const root = mkdtempSync(join(tmpdir(), 'bench-i2v-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const blocks = [32, 64, 64, 64];
const source = randomModelSource('tiny-i2v', {
  unet: parseUNetConfig({ block_out_channels: blocks, layers_per_block: 2, down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'], cross_attention_dim: 64, attention_head_dim: 4, norm_num_groups: 8 }),
  motion: parseMotionConfig({ block_out_channels: blocks, motion_layers_per_block: 2, motion_num_attention_heads: 4, motion_norm_num_groups: 8, motion_max_seq_length: 32, use_motion_mid_block: true }),
  vae: STARTER_VAE,
  text: STARTER_TEXT,
});

describe('BenchModels for the modes suite', () => {
  it('image features enter the UNet graph: zero features equal the plain graph, real ones change the prediction', async () => {
    const m = new BenchModels(source, join(root, 'a'));
    try {
      const shape = { batch: 1, frames: 2, latentHeight: 8, latentWidth: 8, tokens: 77 };
      const feats = await m.imageFeatures(noiseArray(4 * 8 * 8, 3), shape, 0.8);
      expect(feats.map((f) => f.dims)).toEqual([[2, 32, 8, 8], [2, 64, 4, 4], [2, 64, 2, 2], [2, 64, 1, 1]]);
      const sample = noiseArray(2 * 4 * 8 * 8, 1);
      const ctx = noiseArray(2 * 77 * 64, 2);
      const plain = await m.unet(sample, 500, ctx, shape);
      const zero = await m.unet(sample, 500, ctx, shape, { imageFeatures: feats.map((f) => ({ ...f, data: new Float32Array(f.data.length) })) });
      const withImg = await m.unet(sample, 500, ctx, shape, { imageFeatures: feats });
      expect(m.unetCalls.map((c) => Boolean(c.shape.imageFeatures))).toEqual([false, true, true]);
      expect(Math.max(...plain.map((v, i) => Math.abs(v - zero[i])))).toBeLessThan(1e-5);
      expect(Math.max(...plain.map((v, i) => Math.abs(v - withImg[i])))).toBeGreaterThan(1e-3);
    } finally {
      await m.dispose();
    }
  }, 120_000);

  it('image-to-video and video-to-video run through the pipeline on BenchModels', async () => {
    const m = new BenchModels(source, join(root, 'b'));
    try {
      const req = { ...DEFAULT_PARAMS, prompt: 'waves', seed: 2, steps: 2, guidance: 1, frames: 2, width: 64, height: 64, scheduler: I2V_SCHEDULER };
      const tokenizer = ClipTokenizer.load();
      const image = { width: 50, height: 30, data: Uint8Array.from({ length: 50 * 30 * 3 }, (_, i) => (i * 7) % 256) };
      const i2v = await textToVideo(m, req, { tokenizer, mode: imageToVideoMode({ image, motionScale: 0.8, colorMatch: true, width: 64, height: 64 }) });
      const frames = [0, 1].map((f) => Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i + 13 * f) % 256));
      const v2v = await textToVideo(m, req, { tokenizer, mode: videoToVideoMode({ frames, width: 64, height: 64, strength: 1 }) });
      expect([i2v.frames.length, v2v.frames.length]).toEqual([v2v.frames.length, 2 * 64 * 64 * 3]);
      expect(m.unetCalls.map((c) => Boolean(c.shape.imageFeatures))).toEqual([true, true, false, false]);
    } finally {
      await m.dispose();
    }
  }, 120_000);
});
