/**
 * Cheap per-step previews: project the 4 SD1.5 latent channels of the predicted clean latents (LCM's `denoised`)
 * onto RGB with a fixed 4×3 matrix, at latent resolution (the UI upscales). Microseconds per frame, no model.
 *
 * Factors (rows = latent channel 0..3, columns = R, G, B):
 * - 'comfy' (default): ComfyUI `comfy/latent_formats.py`, `SD15.latent_rgb_factors`, no bias, shown as
 *   clamp((rgb + 1)/2, 0, 1) (`latent_preview.py`).
 * - 'a1111': A1111 `modules/sd_vae_approx.py` `cheap_approximation` coefficients, same display mapping.
 * Both work on UNet-space latents (already × 0.18215), i.e. exactly what the scheduler produces.
 */
export type PreviewFactors = 'comfy' | 'a1111';

const FACTORS: Record<PreviewFactors, readonly (readonly [number, number, number])[]> = {
  comfy: [
    [0.3512, 0.2297, 0.3227],
    [0.325, 0.4974, 0.235],
    [-0.2829, 0.1762, 0.2721],
    [-0.212, -0.2616, -0.7177],
  ],
  a1111: [
    [0.298, 0.207, 0.208],
    [0.187, 0.286, 0.173],
    [-0.158, 0.189, 0.264],
    [-0.184, -0.271, -0.473],
  ],
};

export interface PreviewFrames {
  width: number;
  height: number;
  /** One RGBA image per frame (width·height·4 bytes, alpha 255), ready for ImageData. */
  frames: Uint8ClampedArray[];
}

/**
 * `shape` is either `[frames, 4, h, w]` (frame-major, e.g. decoded per frame) or diffusers' video layout
 * `[batch, 4, frames, h, w]`; for the latter `batchIndex` picks the sample (default 0: with CFG the pipeline
 * previews the denoised latents, which have batch 1).
 */
export function latentsToPreviewRGB(
  latents: Float32Array,
  shape: readonly number[],
  opts: { factors?: PreviewFactors; batchIndex?: number } = {},
): PreviewFrames {
  let frames: number, h: number, w: number;
  let offsetOf: (f: number, c: number) => number;
  if (shape.length === 4) {
    [frames, , h, w] = shape;
    offsetOf = (f, c) => (f * 4 + c) * h * w;
  } else if (shape.length === 5) {
    const b = opts.batchIndex ?? 0;
    [, , frames, h, w] = shape;
    if (b < 0 || b >= shape[0]) throw new RangeError(`batch index ${b} outside [0, ${shape[0]})`);
    offsetOf = (f, c) => ((b * 4 + c) * frames + f) * h * w;
  } else {
    throw new RangeError(`latent shape [${shape.join(', ')}] is neither [F,4,H,W] nor [B,4,F,H,W]`);
  }
  if (shape[1] !== 4) throw new RangeError(`expected 4 latent channels, got ${shape[1]}`);
  const expected = shape.reduce((a, d) => a * d, 1);
  if (latents.length !== expected) throw new RangeError(`latents hold ${latents.length} values, shape says ${expected}`);
  const M = FACTORS[opts.factors ?? 'comfy'];
  const hw = h * w;
  const out: Uint8ClampedArray[] = [];
  for (let f = 0; f < frames; f++) {
    const img = new Uint8ClampedArray(hw * 4);
    const base = [0, 1, 2, 3].map((c) => offsetOf(f, c));
    for (let p = 0; p < hw; p++) {
      const z0 = latents[base[0] + p];
      const z1 = latents[base[1] + p];
      const z2 = latents[base[2] + p];
      const z3 = latents[base[3] + p];
      for (let c = 0; c < 3; c++) {
        const v = z0 * M[0][c] + z1 * M[1][c] + z2 * M[2][c] + z3 * M[3][c];
        img[p * 4 + c] = Math.min(1, Math.max(0, (v + 1) / 2)) * 255;
      }
      img[p * 4 + 3] = 255;
    }
    out.push(img);
  }
  return { width: w, height: h, frames: out };
}
