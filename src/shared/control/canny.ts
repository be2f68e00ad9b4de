/**
 * Canny edges, equal to OpenCV's `cv2.Canny(image, low, high)` (apertureSize 3, L2gradient false) — what
 * ControlNet's canny annotator calls — pixel for pixel (test/node/controlnet/canny.test.ts checks it against
 * reference maps made with OpenCV). Optional 5×5 Gaussian blur first, equal to `cv2.GaussianBlur(img, (5, 5), 0)`.
 * Pure TypeScript on bytes: runs in main (CLI, engine) and in the renderer (preview).
 *
 * The steps, as OpenCV does them:
 *  1. Sobel 3×3 per channel (int16), border replicated; magnitude |dx| + |dy|; with several channels each pixel
 *     keeps the channel of the largest magnitude (the first on a tie) and that channel's dx, dy.
 *  2. Non-maximum suppression along the gradient direction, quantised with tan 22.5° in Q15 fixed point: a pixel
 *     above `low` survives if it beats its two neighbours across the edge (strictly on one side, ≥ on the other
 *     for the horizontal and vertical cases, strictly on both for the diagonals); outside the image counts as 0.
 *  3. Hysteresis: survivors above `high` are edges; edges grow into 8-connected survivors.
 * Thresholds are floored; low and high are swapped when low > high.
 */

export interface CannyOptions {
  low: number;
  high: number;
  /** 5×5 Gaussian blur first (OpenCV's fixed σ 1.1 kernel [1 4 6 4 1]/16). */
  blur?: boolean;
}

/** `pixels` is H×W×channels bytes (RGB, RGBA or gray); returns H×W bytes, 255 on edges, 0 elsewhere. */
export function canny(pixels: Uint8Array, width: number, height: number, channels: number, opts: CannyOptions): Uint8Array {
  if (pixels.length !== width * height * channels) throw new Error(`canny: ${pixels.length} bytes for ${width}×${height}×${channels}`);
  const src = opts.blur ? gaussianBlur5(pixels, width, height, channels) : pixels;
  let low = Math.floor(opts.low);
  let high = Math.floor(opts.high);
  if (low > high) [low, high] = [high, low];
  const { mag, dx, dy } = gradients(src, width, height, channels);

  // Map: 0 = may be an edge (survived NMS, ≤ high), 1 = not an edge, 2 = edge. One-pixel border of 1s.
  const mw = width + 2;
  const map = new Uint8Array(mw * (height + 2)).fill(1);
  const stack: number[] = [];
  const TG22 = Math.floor(0.4142135623730950488016887242097 * (1 << 15) + 0.5);
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : mag[y * width + x]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const m = mag[i];
      if (m <= low) continue;
      const xs = dx[i];
      const ys = dy[i];
      const ax = Math.abs(xs);
      const ay = Math.abs(ys) * (1 << 15);
      const tg22x = ax * TG22;
      let peak: boolean;
      if (ay < tg22x) peak = m > at(x - 1, y) && m >= at(x + 1, y);
      else {
        const tg67x = tg22x + ax * (1 << 16);
        if (ay > tg67x) peak = m > at(x, y - 1) && m >= at(x, y + 1);
        else {
          const s = (xs < 0) !== (ys < 0) ? -1 : 1;
          peak = m > at(x - s, y - 1) && m > at(x + s, y + 1);
        }
      }
      if (!peak) continue;
      const k = (y + 1) * mw + (x + 1);
      if (m > high) {
        map[k] = 2;
        stack.push(k);
      } else map[k] = 0;
    }
  }
  const around = [-mw - 1, -mw, -mw + 1, -1, 1, mw - 1, mw, mw + 1];
  while (stack.length > 0) {
    const k = stack.pop()!;
    for (const d of around) {
      if (map[k + d] === 0) {
        map[k + d] = 2;
        stack.push(k + d);
      }
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = map[(y + 1) * mw + x + 1] === 2 ? 255 : 0;
  return out;
}

/** Sobel 3×3 (border replicated), |dx| + |dy|, the strongest channel per pixel. */
function gradients(src: Uint8Array, width: number, height: number, channels: number): { mag: Int32Array; dx: Int32Array; dy: Int32Array } {
  const n = width * height;
  const mag = new Int32Array(n);
  const dx = new Int32Array(n);
  const dy = new Int32Array(n);
  const px = (x: number, y: number, c: number): number =>
    src[(Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))) * channels + c];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let best = -1;
      for (let c = 0; c < channels; c++) {
        const gx = px(x + 1, y - 1, c) + 2 * px(x + 1, y, c) + px(x + 1, y + 1, c) - px(x - 1, y - 1, c) - 2 * px(x - 1, y, c) - px(x - 1, y + 1, c);
        const gy = px(x - 1, y + 1, c) + 2 * px(x, y + 1, c) + px(x + 1, y + 1, c) - px(x - 1, y - 1, c) - 2 * px(x, y - 1, c) - px(x + 1, y - 1, c);
        const m = Math.abs(gx) + Math.abs(gy);
        if (m > best) {
          best = m;
          const i = y * width + x;
          mag[i] = m;
          dx[i] = gx;
          dy[i] = gy;
        }
      }
    }
  }
  return { mag, dx, dy };
}

/**
 * `cv2.GaussianBlur(img, (5, 5), 0)` on bytes: the separable kernel [1 4 6 4 1]/16, border reflected without
 * repeating the edge pixel (BORDER_REFLECT_101), exact integer sum rounded half up as OpenCV's bit-exact path.
 */
export function gaussianBlur5(src: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const K = [1, 4, 6, 4, 1];
  const reflect = (i: number, n: number): number => {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  };
  const rows = new Int32Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += K[k] * src[(y * width + reflect(x + k - 2, width)) * channels + c];
        rows[(y * width + x) * channels + c] = s;
      }
    }
  }
  const out = new Uint8Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += K[k] * rows[(reflect(y + k - 2, height) * width + x) * channels + c];
        out[(y * width + x) * channels + c] = Math.floor((s + 128) / 256);
      }
    }
  }
  return out;
}
