/**
 * How a graph's Linear layers multiply, chosen when the graph is compiled.
 *
 * * `float` — MatMul (+ Add) in the graph's float type: exact to the reference at the CPU tolerance.
 * * `int8` — a labelled, approximate CPU option. Weights are stored as int8 with one scale per output channel
 *   (symmetric, no zero point); activations are quantised per call by onnxruntime's `DynamicQuantizeMatMul`
 *   (com.microsoft: uint8 with a per-tensor scale and zero point computed from the tensor itself), and the int32
 *   products are rescaled to float with the bias fused. On this machine class a [16384, 320]·[320, 1280] product
 *   ran 1.85× faster than fp32 (bench `precision`).
 *
 * Why 7 bits, not 8: without VNNI (AVX2 only), onnxruntime's u8·s8 kernel sums pairs of u8·s8 products in int16
 * (vpmaddubsw), which saturates at 32767. With weights in [−127, 127] two products reach 2·255·127 = 64770 and
 * are clipped: a 4-layer chain measured 24 % mean relative error. With weights in [−63, 63] the pair stays
 * below 2·255·63 = 32130 and the same chain measured 2.6 %. onnxruntime's own quantiser has the same switch
 * (`reduce_range`). One bit of weight resolution is the price on every CPU, VNNI or not, so a cache entry is
 * right on any machine it is copied to.
 *
 * Only the UNet's spatial and motion Linear layers take the plan (≈ 52 % of a CPU UNet call by the profile);
 * time-embedding layers (one row per sample, the signal that steers every resnet) stay exact, and so do the
 * convolutions: onnxruntime's `ConvInteger` ran 3.5× SLOWER than its fp32 NCHWc convolution here.
 */
export type LinearPlan = 'float' | 'int8';

/** How one stored weight is written: as floats in the graph's type, or as the int8 plan's two tensors. */
export type WeightEncoding = 'float' | 'int8' | 'int8-scale';

/** The largest weight magnitude of the int8 plan (7 bits: see above). */
export const INT8_WEIGHT_MAX = 63;

/**
 * Per-column symmetric quantisation of a weight stored [in, out] (the transposed Linear layout MatMul reads):
 * scale[c] = max|w[:, c]| / 63, q = round(w / scale). An all-zero column gets scale 1 and zeros.
 */
export function quantizeColumns(data: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  if (data.length !== rows * cols) throw new Error(`quantizeColumns: ${data.length} values for [${rows}, ${cols}]`);
  const scales = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(data[base + c]);
      if (a > scales[c]) scales[c] = a;
    }
  }
  for (let c = 0; c < cols; c++) scales[c] = scales[c] > 0 ? scales[c] / INT8_WEIGHT_MAX : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(data[base + c] / scales[c]);
      q[base + c] = v > INT8_WEIGHT_MAX ? INT8_WEIGHT_MAX : v < -INT8_WEIGHT_MAX ? -INT8_WEIGHT_MAX : v;
    }
  }
  return { q, scales };
}

/**
 * The bytes, element type and element count of a weight in `encoding`, from its values in graph layout
 * ([rows, cols]; for the int8 encodings, the transposed [in, out] Linear layout).
 */
export function encodeWeight(
  data: Float32Array,
  rows: number,
  cols: number,
  encoding: WeightEncoding,
  toFloat: (d: Float32Array) => { bytes: Uint8Array; elemType: 'float32' | 'float16' },
): { bytes: Uint8Array; elemType: 'float32' | 'float16' | 'int8'; numel: number } {
  if (encoding === 'float') return { ...toFloat(data), numel: data.length };
  const { q, scales } = quantizeColumns(data, rows, cols);
  if (encoding === 'int8') return { bytes: new Uint8Array(q.buffer, q.byteOffset, q.byteLength), elemType: 'int8', numel: q.length };
  return { bytes: new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength), elemType: 'float32', numel: scales.length };
}

/** The key suffix of an encoding (weight keys: canonical name + `.T` when transposed + this). */
export function encodingSuffix(encoding: WeightEncoding | undefined): string {
  return encoding === 'int8' ? '.q7' : encoding === 'int8-scale' ? '.q7s' : '';
}
