import { bgrToHsv, hsvRowToBgr } from './opencv-hsv';
import type { RgbImage } from './rgb-image';

/**
 * AnimateLCM-I2V's colour correction of the decoded frames toward the source image (animatelcm/utils/util.py
 * `adjust_colors`, called by `decode_latents`): per frame, in OpenCV's 8-bit HSV, each channel is shifted by the
 * difference of the channel means (source − frame; hue by 0.03 of it, saturation and value fully), clipped
 * (hue to 0..180, others to 0..255) and truncated to 8 bits. The frame enters as (x·255) truncated; the source is
 * the ORIGINAL image at its own size, not the resized crop. Output values are k/255.
 */
export function adjustColors(frames: Float32Array, frameCount: number, height: number, width: number, source: RgbImage): Float32Array {
  const srcMean = channelMeans(source.data, source.width * source.height);
  const n = height * width;
  const out = new Float32Array(frames.length);
  const hsv = new Uint8Array(n * 3);
  const bgr = new Uint8Array(n * 3);
  for (let fi = 0; fi < frameCount; fi++) {
    const base = fi * n * 3;
    for (let p = 0; p < n; p++) {
      // numpy's astype(uint8) truncates; frames are already clamped to [0, 1].
      const r = Math.trunc(Math.fround(frames[base + p * 3] * 255));
      const g = Math.trunc(Math.fround(frames[base + p * 3 + 1] * 255));
      const b = Math.trunc(Math.fround(frames[base + p * 3 + 2] * 255));
      const [h, s, v] = bgrToHsv(b, g, r);
      hsv[p * 3] = h;
      hsv[p * 3 + 1] = s;
      hsv[p * 3 + 2] = v;
    }
    const tgtMean = hsvMeans(hsv, n);
    for (let c = 0; c < 3; c++) {
      const diff = srcMean[c] - tgtMean[c];
      const factor = c === 0 ? 0.03 : 1.0;
      const max = c === 0 ? 180 : 255;
      for (let p = 0; p < n; p++) hsv[p * 3 + c] = Math.trunc(Math.min(max, Math.max(0, hsv[p * 3 + c] + factor * diff)));
    }
    // cv2 converts row by row: the vector/scalar border is per row.
    for (let y = 0; y < height; y++) hsvRowToBgr(hsv.subarray(y * width * 3, (y + 1) * width * 3), bgr.subarray(y * width * 3, (y + 1) * width * 3), width);
    for (let p = 0; p < n; p++) {
      out[base + p * 3] = Math.fround(bgr[p * 3 + 2] / 255);
      out[base + p * 3 + 1] = Math.fround(bgr[p * 3 + 1] / 255);
      out[base + p * 3 + 2] = Math.fround(bgr[p * 3] / 255);
    }
  }
  return out;
}

/** Means of H, S, V over an RGB image converted as cv2.imread + BGR2HSV would (float64). */
function channelMeans(rgb: Uint8Array, n: number): [number, number, number] {
  const hsv = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const [h, s, v] = bgrToHsv(rgb[p * 3 + 2], rgb[p * 3 + 1], rgb[p * 3]);
    hsv[p * 3] = h;
    hsv[p * 3 + 1] = s;
    hsv[p * 3 + 2] = v;
  }
  return hsvMeans(hsv, n);
}

function hsvMeans(hsv: Uint8Array, n: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) sum[c] += hsv[p * 3 + c];
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}
