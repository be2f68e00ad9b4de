/**
 * Image resize as Pillow's `Image.resize((w, h), Image.LANCZOS)` — what diffusers' control-image processor does
 * to a conditioning image (VaeImageProcessor.resize, resample "lanczos"): separable Lanczos-3, the kernel widened
 * by the scale when shrinking, weights normalised then rounded to 22-bit fixed point, horizontal pass first into an
 * 8-bit image, then vertical, each output rounded half up and clamped. Same size in ⇒ the same bytes out.
 * (Written from Pillow's Resample.c algorithm; byte-equal to Pillow 9.4 on test/fixtures/lanczos, made by
 * scripts/fixtures/make-lanczos-reference.py.)
 */

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

interface Coeffs {
  bounds: Int32Array; // [xmin, count] per output
  k: Int32Array[]; // fixed-point weights per output
}

function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = 3 * filterscale;
  const bounds = new Int32Array(outSize * 2);
  const k: Int32Array[] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const w = new Float64Array(xmax);
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = lanczos((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    const fixed = new Int32Array(xmax);
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      fixed[x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
    k.push(fixed);
  }
  return { bounds, k };
}

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/** `src` is H×W×channels bytes; returns outH×outW×channels bytes. */
export function resizeLanczos(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number): Uint8Array {
  if (src.length !== width * height * channels) throw new Error(`resize: ${src.length} bytes for ${width}×${height}×${channels}`);
  let cur = src;
  let w = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth);
    const out = new Uint8Array(outWidth * height * channels);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = c.bounds[2 * xx];
        const n = c.bounds[2 * xx + 1];
        const k = c.k[xx];
        for (let ch = 0; ch < channels; ch++) {
          let ss = ONE / 2;
          for (let x = 0; x < n; x++) ss += cur[(y * w + xmin + x) * channels + ch] * k[x];
          out[(y * outWidth + xx) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight);
    const out = new Uint8Array(w * outHeight * channels);
    for (let yy = 0; yy < outHeight; yy++) {
      const ymin = c.bounds[2 * yy];
      const n = c.bounds[2 * yy + 1];
      const k = c.k[yy];
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < channels; ch++) {
          let ss = ONE / 2;
          for (let y = 0; y < n; y++) ss += cur[((ymin + y) * w + x) * channels + ch] * k[y];
          out[(yy * w + x) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}
