import { StudioError } from '../../../shared/errors';
import { roundHalfEven, type RgbImage } from './rgb-image';

/**
 * Pillow's `Image.resize(size, Image.LANCZOS)` on 8-bit RGB, as Pillow 9 computes it (libImaging/Resample.c):
 * separable, horizontal pass first, then vertical; Lanczos-3 taps normalised per output pixel in float64, then
 * turned into 22-bit fixed-point integers (rounded away from zero) and accumulated in integers with a half-unit
 * bias, clipped to 0..255. Matching Pillow bit for bit matters because AnimateLCM-I2V encodes exactly this image.
 */

const PRECISION_BITS = 32 - 8 - 2;
const SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const y = x * Math.PI;
  return Math.sin(y) / y;
}

function lanczos(x: number): number {
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

interface Coeffs {
  bounds: Int32Array; // xmin, count per output pixel
  k: Int32Array; // ksize per output pixel
  ksize: number;
}

function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? pre[x] / ww : pre[x];
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, k, ksize };
}

function clip8(v: number): number {
  const x = Math.floor(v / (1 << PRECISION_BITS));
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/** One pass along x (horizontal) or y (vertical) over interleaved RGB. */
function pass(src: Uint8Array, w: number, h: number, outW: number, outH: number, c: Coeffs, horizontal: boolean): Uint8Array {
  const out = new Uint8Array(outW * outH * 3);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const min = c.bounds[o * 2];
      const n = c.bounds[o * 2 + 1];
      for (let ch = 0; ch < 3; ch++) {
        // Pillow sums in 32-bit ints; the products stay far below 2^53, so doubles are exact here.
        let s = half;
        for (let t = 0; t < n; t++) {
          const px = horizontal ? src[(y * w + min + t) * 3 + ch] : src[((min + t) * w + x) * 3 + ch];
          s += px * c.k[o * c.ksize + t];
        }
        out[(y * outW + x) * 3 + ch] = clip8(s);
      }
    }
  void h;
  return out;
}

export function resizeLanczos(img: RgbImage, outW: number, outH: number): RgbImage {
  if (!(outW >= 1 && outH >= 1)) throw new StudioError('INVALID_PARAMS', `Cannot resize an image to ${outW}×${outH}.`);
  let data = img.data;
  let w = img.width;
  if (outW !== img.width) {
    data = pass(data, w, img.height, outW, img.height, coefficients(img.width, outW), true);
    w = outW;
  }
  if (outH !== img.height) data = pass(data, w, img.height, w, outH, coefficients(img.height, outH), false);
  return { width: outW, height: outH, data };
}

/** `Image.crop(box)` with Pillow's rounding of a float box (Python round(): half to even). */
export function crop(img: RgbImage, box: [number, number, number, number]): RgbImage {
  const [x0, y0, x1, y1] = box.map(roundHalfEven);
  const w = x1 - x0;
  const h = y1 - y0;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const sx = x0 + x;
        const sy = y0 + y;
        // Pillow fills pixels outside the source with 0; inside the box math here they never are.
        out[(y * w + x) * 3 + c] = sx >= 0 && sy >= 0 && sx < img.width && sy < img.height ? img.data[(sy * img.width + sx) * 3 + c] : 0;
      }
  return { width: w, height: h, data: out };
}

/**
 * AnimateLCM's `resize_and_crop` (animatelcm/utils/util.py): LANCZOS-resize so the image covers the target (the
 * side that fits is exact, the other `round()`ed), then a centred crop to exactly the target size.
 */
export function resizeAndCrop(img: RgbImage, targetW: number, targetH: number): RgbImage {
  const targetRatio = targetW / targetH;
  const origRatio = img.width / img.height;
  const [rw, rh] = targetRatio > origRatio ? [targetW, roundHalfEven((targetW / img.width) * img.height)] : [roundHalfEven((targetH / img.height) * img.width), targetH];
  const resized = resizeLanczos(img, rw, rh);
  const x0 = (rw - targetW) / 2;
  const y0 = (rh - targetH) / 2;
  return crop(resized, [x0, y0, x0 + targetW, y0 + targetH]);
}
