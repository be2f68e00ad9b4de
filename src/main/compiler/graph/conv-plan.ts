import type { ProviderName } from '../../../shared/domain/generation';

/**
 * How a graph's 3×3 convolutions multiply, chosen per execution provider when the graph is compiled.
 *
 * * `direct` — one Conv node: onnxruntime's NCHWc kernel on the CPU, the provider's own on a GPU (cuDNN and
 *   DirectML pick their algorithms themselves; WebGPU's is a direct kernel we keep as it is, verified there).
 * * `winograd` — the CPU's fp32 plan. Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2015): each 4×4
 *   output tile is A^T [(G g G^T) ⊙ (B^T d B)] A over its 6×6 input tile d, so a tile costs 36 multiply-adds per
 *   (input, output) channel pair where the direct convolution costs 16·9 = 144: the products are 4× fewer.
 *   In the graph:
 *   1. input transform B^T d B: one Conv of every channel as its own image ([N·C, 1, H, W]) with the 36 fixed
 *      6×6 kernels B^T[p]·B^T[q] at stride 4 → [N·C, 36, T, U] (T×U tiles, padded so any H, W works);
 *   2. one Transpose to [36, C, N·T·U];
 *   3. one batched MatMul with the stored transformed kernel G g G^T laid out [36, K, C] → [36, K, N·T·U]
 *      (the weight is the left operand: the right one's N·T·U columns are what grows with the clip);
 *   4. one Transpose to [N·K, 36, T, U];
 *   5. output transform A^T m A: one ConvTranspose with the 36 fixed 4×4 kernels at stride 4, which writes the
 *      4×4 tiles in place → [N·K, 1, 4T, 4U]; then the bias (and a Slice where H or W is not a multiple of 4).
 *   Measured against the NCHWc Conv at the UNet's shapes (16 frames, alternating, one process, this 2-vCPU AVX2
 *   machine): 320 ch at 32² 180 → 123 ms, 640 at 16² 187 → 97 ms, 1280 at 8² 181 → 75 ms; error against the
 *   direct convolution: relative L2 1–3·10⁻⁶, max |Δ| ≤ 3·10⁻⁵ (the transforms' rounding, fp32).
 *
 * The price is weight memory: the transformed kernel holds 36 values where the 3×3 kernel holds 9, 4× the
 * bytes. The plan therefore takes only the layers with at most WINOGRAD_MAX_OUT_CHANNELS outputs: in SD1.5
 * the 320- and 640-channel levels, 59 % of the UNet's 3×3 multiply-adds, ≈ 65 M weights (≈ 0.8 GB more than
 * their plain fp32 kernels). The choice is by weight shape only, never by the latent size: one weights file
 * serves every shape a cache entry compiles.
 *
 * Stride-2 convolutions (downsamplers), 1×1 convolutions and the few-channel ones (conv_in, conv_out: 4 latent
 * channels, where the transforms would outweigh the product) stay direct. The UNet and a ControlNet (its encoder is
 * the UNet's) take the plan; their cache keys carry `conv: 'winograd'`.
 *
 * The VAE's graphs take the plan too, with their own range (vaeWinogradLayers: wider than the top level, at any
 * width; its widest are 512) and one more bound (families/vae.ts vaeTakesWinograd names the kernels): the layer's
 * input must be smaller than the top level's activation, since the intermediates are 2.25× the input, a few at once.
 * Single layers, one frame, alternating: 512 ch at 64² 119 → 56 ms, at 128² 477 → 234 ms; 256 ch at 256²
 * 503 → 337 ms; 128 ch at 512² 617 → 568 ms only. The whole SD1.5 decoder, one 512² frame (fresh processes):
 * with every layer wider than the top level but the full-resolution upsampler, 29.4 → 19.3 s but peak RSS 1.62 →
 * 3.56 GiB; with the input bound (43 M kernels, 0.48 GiB more weights), 29.8 → 22.2 s, 1.67 → 2.19 GiB.
 */
export type ConvPlan = 'direct' | 'winograd';

/** The convolution form the compiler emits for graphs that will run on `provider`. */
export function convPlanFor(provider: ProviderName): ConvPlan {
  return provider === 'cpu' ? 'winograd' : 'direct';
}

/** Output tile edge (m) and input tile edge (m + 2) of F(4×4, 3×3). */
export const WINOGRAD_TILE = 4;
export const WINOGRAD_INPUT_TILE = WINOGRAD_TILE + 2;
/** Transformed-domain points per tile (36). */
export const WINOGRAD_POINTS = WINOGRAD_INPUT_TILE * WINOGRAD_INPUT_TILE;

/** Layers with more outputs keep the direct form (the 4× kernel memory; see above). */
export const WINOGRAD_MAX_OUT_CHANNELS = 640;
/** Layers with fewer inputs or outputs keep the direct form (transforms outweigh the product). */
export const WINOGRAD_MIN_CHANNELS = 16;

// F(4, 3) at the points 0, ±1, ±2, ∞ (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks").
const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];

/** Which 3×3 stride-1 layers of one graph family the winograd plan takes: a channel range, by kernel shape. */
export interface WinogradLayers {
  /** Fewest inputs and outputs (C and K) a layer needs. */
  minChannels: number;
  /** Most outputs (K) a layer may have. */
  maxOutChannels: number;
}

/** The UNet's layers (and the default): 16 ≤ C, K and K ≤ 640 (see above). */
export const UNET_WINOGRAD_LAYERS: WinogradLayers = { minChannels: WINOGRAD_MIN_CHANNELS, maxOutChannels: WINOGRAD_MAX_OUT_CHANNELS };

/**
 * The VAE's layers: those wider than its top level (`topChannels`, block_out_channels[0]), whatever their width
 * (in SD1.5 the 256- and 512-channel layers; the VAE has no 1280-channel kernels whose 4× bytes would weigh).
 * The top level runs at the full output resolution: 128 channels at 512² gained 617 → 568 ms only (the
 * transforms there are a large share of few-channel products), and its transform intermediates, 2.25× a
 * 134 MB activation several times over, are the decode's largest transient memory. A creator's VAE config and
 * weights are fixed per cache entry, so the choice still never depends on the image size.
 */
export function vaeWinogradLayers(topChannels: number): WinogradLayers {
  return { minChannels: Math.max(WINOGRAD_MIN_CHANNELS, topChannels + 1), maxOutChannels: Number.POSITIVE_INFINITY };
}

/**
 * Whether a conv kernel of `shape` [K, C, kh, kw] at `stride` takes the Winograd form under the winograd plan:
 * 3×3, stride 1, `layers.minChannels` ≤ C and K, K ≤ `layers.maxOutChannels`. By shape only (see above).
 */
export function takesWinograd(shape: readonly number[], stride: number, layers: WinogradLayers = UNET_WINOGRAD_LAYERS): boolean {
  const [K, C, kh, kw] = shape;
  return shape.length === 4 && kh === 3 && kw === 3 && stride === 1 && C >= layers.minChannels && K >= layers.minChannels && K <= layers.maxOutChannels;
}

/** The stored shape of a transformed kernel: [36, K, C]. */
export function winogradKernelShape(shape: readonly number[]): number[] {
  return [WINOGRAD_POINTS, shape[0], shape[1]];
}

/** G g G^T of every (output, input) channel pair of a 3×3 kernel [K, C, 3, 3], laid out [36, K, C]. */
export function winogradKernel(data: Float32Array, shape: readonly number[]): Float32Array {
  const [K, C] = shape;
  if (data.length !== K * C * 9) throw new Error(`winogradKernel: ${data.length} values for [${shape.join(', ')}]`);
  const out = new Float32Array(WINOGRAD_POINTS * K * C);
  const plane = K * C;
  const gg = new Float64Array(WINOGRAD_INPUT_TILE * 3); // G·g for one kernel (6 × 3)
  for (let kc = 0; kc < plane; kc++) {
    const base = kc * 9;
    for (let p = 0; p < WINOGRAD_INPUT_TILE; p++) {
      for (let j = 0; j < 3; j++) gg[p * 3 + j] = G[p][0] * data[base + j] + G[p][1] * data[base + 3 + j] + G[p][2] * data[base + 6 + j];
    }
    for (let p = 0; p < WINOGRAD_INPUT_TILE; p++) {
      for (let q = 0; q < WINOGRAD_INPUT_TILE; q++) {
        out[(p * WINOGRAD_INPUT_TILE + q) * plane + kc] = gg[p * 3] * G[q][0] + gg[p * 3 + 1] * G[q][1] + gg[p * 3 + 2] * G[q][2];
      }
    }
  }
  return out;
}

/** The 36 input-transform kernels B^T[p]·B^T[q] as a Conv weight [36, 1, 6, 6]. */
export function winogradInputKernels(): Float32Array {
  const a = WINOGRAD_INPUT_TILE;
  const k = new Float32Array(WINOGRAD_POINTS * a * a);
  for (let p = 0; p < a; p++) for (let q = 0; q < a; q++) for (let i = 0; i < a; i++) for (let j = 0; j < a; j++) k[((p * a + q) * a + i) * a + j] = BT[p][i] * BT[q][j];
  return k;
}

/** The 36 output-transform kernels A^T[·][p]·A^T[·][q] as a ConvTranspose weight [36, 1, 4, 4]. */
export function winogradOutputKernels(): Float32Array {
  const m = WINOGRAD_TILE;
  const a = WINOGRAD_INPUT_TILE;
  const k = new Float32Array(WINOGRAD_POINTS * m * m);
  for (let p = 0; p < a; p++) for (let q = 0; q < a; q++) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) k[((p * a + q) * m + i) * m + j] = AT[i][p] * AT[j][q];
  return k;
}
