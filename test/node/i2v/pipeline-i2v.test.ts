import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/main/compiler/io/npy';
import { openCanonical } from '../../../src/main/verify/canonical';
import { adjustColors } from '../../../src/main/engine/image/adjust-colors';
import { bgrToHsv, hsvToBgr } from '../../../src/main/engine/image/opencv-hsv';
import { resizeAndCrop, resizeLanczos } from '../../../src/main/engine/image/pil-resize';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { ANIMATELCM_LORA_SCALE } from '../../../src/main/engine/models/model-source';
import { imageToVideoMode } from '../../../src/main/engine/pipelines/image-to-video';
import { decodePng } from '../../../src/main/formats/png';
import { runVerify, verifyPassed } from '../../../src/main/verify/run';
import { openWeightsFile } from '../../../src/main/verify/run-graph';

const REF = join(__dirname, '../../fixtures/reference');
const CASE = join(REF, 'pipeline_animatelcm_i2v');
const u8 = (name: string): Uint8Array => readNpy(join(CASE, name)).data as Uint8Array;
const image = (() => {
  const p = decodePng(readFileSync(join(CASE, 'input_image.png')));
  return { width: p.width, height: p.height, data: p.rgb };
})();

describe('AnimateLCM-I2V pipeline', () => {
  it('verify passes both reference runs (guidance 1 and CFG 1.5), every step, decode and adjust_colors', async () => {
    for (const c of ['pipeline_animatelcm_i2v', 'pipeline_animatelcm_i2v_cfg']) {
      const r = await runVerify(join(REF, c), { log: () => undefined });
      expect(r.failures).toEqual([]);
      expect(verifyPassed(r)).toBe(true);
      const whats = r.comparisons.map((x) => x.what);
      for (const w of ['resize_and_crop (uint8 levels)', 'img_latent', 'step2 latents', 'video_before_adjust', 'frames_adjusted_uint8 (±2 levels)']) expect(whats).toContain(w);
      // adjust_colors reproduces OpenCV exactly on these (scalar-path) rows.
      expect(r.comparisons.find((x) => x.what.startsWith('frames_adjusted'))!.maxAbs).toBe(0);
    }
  }, 120_000);

  it('resize_and_crop: Pillow LANCZOS + half-to-even crop box (y 2.5 → 2) reproduce the recorded crop; half-up would not', () => {
    const out = resizeAndCrop(image, 16, 16);
    expect(Array.from(out.data)).toEqual(Array.from(u8('resized_cropped_uint8.npy')));
    // The trap: rounding the crop box half-up starts one row lower.
    const resized = resizeLanczos(image, 16, 21);
    const rowsFrom3 = resized.data.subarray(3 * 16 * 3, 19 * 16 * 3);
    expect(Array.from(rowsFrom3)).not.toEqual(Array.from(out.data));
  });

  it('resize: a flat image stays flat up and down; same size is the identity; taller-than-wide sources crop the other axis', () => {
    const flat = { width: 7, height: 5, data: new Uint8Array(7 * 5 * 3).fill(200) };
    for (const [w, h] of [[3, 2], [20, 13], [7, 5]]) expect(new Set(resizeLanczos(flat, w, h).data)).toEqual(new Set([200]));
    expect(resizeLanczos(image, image.width, image.height).data).toEqual(image.data);
    const tall = resizeAndCrop({ width: 5, height: 30, data: new Uint8Array(5 * 30 * 3).map((_, i) => i % 251) }, 8, 8);
    expect([tall.width, tall.height]).toEqual([8, 8]);
  });

  it('OpenCV HSV: the source image and every frame convert as cv2 did; HSV→BGR reproduces the adjusted frames', () => {
    const src = readNpy(join(CASE, 'adjust_src_hsv.npy')).data as Uint8Array;
    for (let p = 0; p < image.width * image.height; p++) {
      expect(bgrToHsv(image.data[p * 3 + 2], image.data[p * 3 + 1], image.data[p * 3])).toEqual([src[p * 3], src[p * 3 + 1], src[p * 3 + 2]]);
    }
    const adjHsv = readNpy(join(CASE, 'adjust_adjusted_hsv.npy')).data as Uint8Array;
    const adjusted = u8('frames_adjusted_uint8.npy');
    for (let p = 0; p < adjHsv.length / 3; p++) expect(hsvToBgr(adjHsv[p * 3], adjHsv[p * 3 + 1], adjHsv[p * 3 + 2])).toEqual([adjusted[p * 3 + 2], adjusted[p * 3 + 1], adjusted[p * 3]]);
    // H = 180 wraps to red; S = 0 is grey.
    expect(hsvToBgr(180, 255, 255)).toEqual([0, 0, 255]);
    expect(hsvToBgr(77, 0, 128)).toEqual([128, 128, 128]);
  });

  it('adjustColors: from the recorded frames to the recorded adjusted frames, exactly', () => {
    const target = u8('frames_target_uint8.npy');
    const frames = Float32Array.from(readNpy(join(CASE, 'video_before_adjust.npy')).data as Float32Array);
    // video_before_adjust is (1,3,F,H,W); adjustColors takes [F,H,W,3].
    const [F, H, W] = [4, 16, 16];
    const fhw3 = new Float32Array(frames.length);
    for (let f = 0; f < F; f++) for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) fhw3[(f * H * W + p) * 3 + c] = frames[(c * F + f) * H * W + p];
    expect(Array.from(fhw3, (v) => Math.trunc(Math.fround(v * 255)))).toEqual(Array.from(target));
    const out = adjustColors(fhw3, F, H, W, image);
    expect(Array.from(out, (v) => Math.round(v * 255))).toEqual(Array.from(u8('frames_adjusted_uint8.npy')));
  });

  it("the LoRA's fixed 1/8 scale: reproduces the merged sample; the kohya alpha/rank rule would not", () => {
    const lora = join(REF, 'animatelcm_i2v/animatelcm_i2v_lora.safetensors');
    const u = openCanonical(join(REF, 'animatelcm_i2v/unet_weights.safetensors'), 'unet');
    const sample = openWeightsFile(join(CASE, 'lora_merged_sample.safetensors'));
    try {
      const fixed = applyLoraStack({ unet: u.weights }, [{ file: lora, weight: 0.8, fixedScale: ANIMATELCM_LORA_SCALE }]).unet!;
      const kohya = applyLoraStack({ unet: u.weights }, [{ file: lora, weight: 0.8 }]).unet!;
      for (const name of sample.names()) {
        const ref = sample.get(name)!.readF32();
        const a = fixed.get(name)!.readF32();
        const b = kohya.get(name)!.readF32();
        expect(Math.max(...a.map((v, i) => Math.abs(v - ref[i])))).toBeLessThan(1e-6);
        expect(Math.max(...b.map((v, i) => Math.abs(v - ref[i])))).toBeGreaterThan(1e-3);
      }
    } finally {
      sample.close();
      u.close();
    }
  });

  it('refuses a motion scale outside 0–1.5', () => {
    expect(() => imageToVideoMode({ image, motionScale: 2, colorMatch: true, width: 16, height: 16 })).toThrow(/Motion scale must be between 0 and 1.5/);
  });
});
