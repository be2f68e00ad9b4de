import { describe, expect, it } from 'vitest';
import { controlNetMacs, unetCallMacs, unetEncoderMacs, unetMacs, vaeDecoderMacs } from '../../../bench/macs';
import { ANIMATELCM_MOTION, SD15_UNET, SD15_VAE } from '../../../src/main/compiler/families/configs';
import { STARTER_MOTION, STARTER_UNET } from '../../../src/main/engine/starter/starter-model';

const G = 1e9;

describe('analytic MAC counts', () => {
  // Tech brief §8 (computed independently for the diffusers SD1.5 config): per sample, per UNet call.
  const rows = [
    { h: 64, w: 64, unet: 401.6, scores: 63.0, motion: 153, overhead: 38 },
    { h: 64, w: 96, unet: 647.6, scores: 140.5, motion: 229.5, overhead: 35 },
    { h: 96, w: 96, unet: 1074, scores: 314.1, motion: 344.3, overhead: 32 },
  ];
  for (const r of rows) {
    it(`reproduces the SD1.5 + AnimateLCM numbers at a ${r.h}×${r.w} latent`, () => {
      const m = unetMacs(SD15_UNET, ANIMATELCM_MOTION, { latentHeight: r.h, latentWidth: r.w, tokens: 77, frames: 16 });
      expect(m.unet / G).toBeCloseTo(r.unet, r.unet > 1000 ? 0 : 1);
      expect(m.unetAttentionScores / G).toBeCloseTo(r.scores, 1);
      expect(Math.abs(m.motion / G - r.motion)).toBeLessThan(0.5);
      expect(Math.round((100 * m.motion) / m.unet)).toBe(r.overhead);
      expect(m.total).toBe(m.unet + m.motion);
    });
  }

  it('matches the 339 GMACs usually quoted for the SD1.5 UNet without the attention matmuls', () => {
    const m = unetMacs(SD15_UNET, undefined, { latentHeight: 64, latentWidth: 64, tokens: 77 });
    expect((m.unet - m.unetAttentionScores) / G).toBeCloseTo(338.6, 1);
    expect(m.motion).toBe(0);
  });

  it('counts the VAE decoder of a 512×512 frame at 1257 GMACs', () => {
    expect(vaeDecoderMacs(SD15_VAE, { latentHeight: 64, latentWidth: 64 }) / G).toBeCloseTo(1257.3, 1);
  });

  it('lets only the temporal attention depend on the frame count', () => {
    const a = unetMacs(SD15_UNET, ANIMATELCM_MOTION, { latentHeight: 32, latentWidth: 32, tokens: 77, frames: 8 });
    const b = unetMacs(SD15_UNET, ANIMATELCM_MOTION, { latentHeight: 32, latentWidth: 32, tokens: 77, frames: 16 });
    expect(b.unet).toBe(a.unet);
    expect(b.motionAttentionScores).toBeCloseTo(2 * a.motionAttentionScores, 0);
    expect(b.motion - b.motionAttentionScores).toBeCloseTo(a.motion - a.motionAttentionScores, 0);
  });

  it('grows the text cross-attention with the prompt chunks', () => {
    const one = unetMacs(SD15_UNET, undefined, { latentHeight: 64, latentWidth: 64, tokens: 77 });
    const two = unetMacs(SD15_UNET, undefined, { latentHeight: 64, latentWidth: 64, tokens: 154 });
    // per transformer block: k,v projections 2·T·768·C plus the scores 2·S·T·C, for 16 blocks
    const perToken = [320, 640, 1280].reduce((s, c, i) => s + 5 * (2 * 768 * c + 2 * (4096 / 4 ** i) * c), 0) + (2 * 768 * 1280 + 2 * 64 * 1280);
    expect(two.unet - one.unet).toBe(77 * perToken);
  });

  it('walks configs other than SD1.5 (the starter model), odd latent sizes included', () => {
    const m = unetMacs(STARTER_UNET, STARTER_MOTION, { latentHeight: 33, latentWidth: 20, tokens: 77, frames: 8 });
    expect(m.unet).toBeGreaterThan(0);
    expect(m.motion).toBeGreaterThan(0);
    expect(unetCallMacs(STARTER_UNET, STARTER_MOTION, { batch: 2, frames: 8, latentHeight: 33, latentWidth: 20, tokens: 77 })).toBe(16 * m.total);
  });

  it('counts an SD1.5 ControlNet as the encoder plus the hint block and the zero convs, counted here by hand', () => {
    const s = { latentHeight: 64, latentWidth: 64, tokens: 77 };
    const px = (side: number): number => side * side;
    // hint block on the 512² image: 3×3 convs, stride 2 into each wider channel count, conv_out to 320 at 64²
    const hint =
      9 * (px(512) * 3 * 16 + px(512) * 16 * 16 + px(256) * 16 * 32 + px(256) * 32 * 32 + px(128) * 32 * 96 + px(128) * 96 * 96 + px(64) * 96 * 256 + px(64) * 256 * 320);
    // 1×1 zero convs, one per skip (12) and the mid block: conv_in's and two per block at 64², 32², 16², 8², each
    // downsampler's at the next size, the mid block at 8²
    const zero = px(64) * 320 ** 2 * 3 + px(32) * 320 ** 2 + px(32) * 640 ** 2 * 2 + px(16) * 640 ** 2 + px(16) * 1280 ** 2 * 2 + px(8) * 1280 ** 2 * (1 + 2 + 1);
    expect(controlNetMacs(SD15_UNET, s) - unetEncoderMacs(SD15_UNET, s)).toBe(hint + zero);
    // the encoder is the smaller part of the spatial UNet (the up path has 3 resnets per block and the wider inputs)
    const enc = unetEncoderMacs(SD15_UNET, s) / unetMacs(SD15_UNET, undefined, s).unet;
    expect(enc).toBeGreaterThan(0.25);
    expect(enc).toBeLessThan(0.4);
  });
});
