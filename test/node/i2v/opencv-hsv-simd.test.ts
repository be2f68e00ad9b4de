import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adjustColors } from '../../../src/main/engine/image/adjust-colors';
import { hsvRowToBgr } from '../../../src/main/engine/image/opencv-hsv';

/**
 * OpenCV 4.6's 8-bit HSV→BGR on rows of every width 1..130, byte for byte, as Debian's cv2 (AVX2 build) computed
 * it (test/fixtures/opencv-hsv/make.py): the first ⌊W/32⌋·32 pixels of a row take its vector path (fused
 * 1 − s·h, truncation), the rest its scalar path (rounding). Then AnimateLCM's whole adjust_colors on random
 * frames and sources of those widths.
 */
const FX = join(__dirname, '..', '..', 'fixtures', 'opencv-hsv');
const cases = JSON.parse(readFileSync(join(FX, 'cases.json'), 'utf8')) as { cv2: string; hsv2bgr: Array<[number, number]>; adjust: Array<[number, number, number, number]> };

describe('OpenCV 8-bit HSV→BGR, vector and scalar parts of a row', () => {
  it('matches cv2 byte for byte on every width 1..130', () => {
    expect(cases.cv2).toBe('4.6.0');
    const bin = readFileSync(join(FX, 'hsv2bgr.bin'));
    let o = 0;
    let wide = 0;
    for (const [w, h] of cases.hsv2bgr) {
      const n = w * h * 3;
      const hsv = bin.subarray(o, o + n);
      const want = bin.subarray(o + n, o + 2 * n);
      o += 2 * n;
      const got = new Uint8Array(n);
      for (let y = 0; y < h; y++) hsvRowToBgr(hsv.subarray(y * w * 3, (y + 1) * w * 3), got.subarray(y * w * 3, (y + 1) * w * 3), w);
      const bad = got.findIndex((v, i) => v !== want[i]);
      expect(bad, `width ${w}: byte ${bad} is ${got[bad]}, cv2 ${want[bad]}`).toBe(-1);
      if (w >= 32) wide++;
    }
    expect(o).toBe(bin.length);
    expect(wide).toBe(99);
  });

  it('adjust_colors equals the authors’ steps run on cv2, for frames 1..130 wide and sources of any size', () => {
    const bin = readFileSync(join(FX, 'adjust.bin'));
    let o = 0;
    for (const [w, h, sw, sh] of cases.adjust) {
      const take = (len: number): Uint8Array => {
        const a = bin.subarray(o, o + len);
        o += len;
        return a;
      };
      const srcBgr = take(sw * sh * 3);
      const tgtBgr = take(w * h * 3);
      const want = take(w * h * 3);
      const swap = (bgr: Uint8Array): Uint8Array => bgr.map((_, i) => bgr[i - (i % 3) + 2 - (i % 3)]);
      // A frame value t/255 must truncate back to t after ×255; (t + 0.5)/255 does for every t.
      const frames = Float32Array.from(swap(tgtBgr), (t) => (t + 0.5) / 255);
      const out = adjustColors(frames, 1, h, w, { width: sw, height: sh, data: swap(srcBgr) });
      const got = swap(Uint8Array.from(out, (x) => Math.round(x * 255)));
      const bad = got.findIndex((v, i) => v !== want[i]);
      expect(bad, `${w}×${h}: byte ${bad} is ${got[bad]}, cv2 ${want[bad]}`).toBe(-1);
    }
    expect(o).toBe(bin.length);
  });
});
