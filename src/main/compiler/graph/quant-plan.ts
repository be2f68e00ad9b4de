/**
 * How a graph's Linear and convolution layers multiply, chosen when the graph is compiled.
 *
 * * `float` — MatMul / Conv in the graph's float type: exact to the reference at the CPU tolerance.
 * * `int8` — a labelled, approximate CPU option. Weights are stored as int8 with one scale per output channel
 *   (symmetric, no zero point); activations are quantised per call to uint8 with a per-tensor scale and zero point
 *   computed from the tensor itself, and the int32 products are rescaled to float with the bias fused.
 *   - Linear: one com.microsoft `DynamicQuantizeMatMul`. A [16384, 320]·[320, 1280] chain ran 1.85× faster than
 *     fp32 here (alternating, one process).
 *   - Convolution (k×k, any stride): the activation is quantised once, laid out channels-last in uint8 (a quarter
 *     of the fp32 bytes), padded with its zero point, and its k² shifted views are concatenated into an im2col
 *     matrix [N·H·W, k²·C] for one com.microsoft `MatMulIntegerToFloat` against the weight laid out [k²·C, K].
 *     onnxruntime's own `ConvInteger` ran 3.5× SLOWER than its fp32 NCHWc convolution; this form ran 1.4–1.9×
 *     FASTER (3×3 at 16 × 320 × 32², 16 × 640 × 16², 16 × 1280 × 8²).
 *
 * Why 7 bits, not 8: without VNNI (AVX2 only), onnxruntime's u8·s8 kernel sums pairs of u8·s8 products in int16
 * (vpmaddubsw), which saturates at 32767. With weights in [−127, 127] two products reach 2·255·127 = 64770 and
 * are clipped: a 4-layer chain measured 24 % mean relative error. With weights in [−63, 63] the pair stays
 * below 2·255·63 = 32130 and the same chain measured 2.6 %. onnxruntime's own quantiser has the same switch
 * (`reduce_range`). One bit of weight resolution is the price on every CPU, VNNI or not, so a cache entry is
 * right on any machine it is copied to.
 *
 * Only the UNet takes the plan. What stays exact: the time-embedding layers (one row per sample, the signal that
 * steers every resnet), `conv_in` and `conv_out` (4 latent channels: the input's and the prediction's precision),
 * attention itself (scores and softmax), normalisation and every element-wise op.
 */
export type QuantPlan = 'float' | 'int8';

/**
 * The UNet weights the int8 plan keeps in float, by name: the layers the UNet builder marks `exact` (time embeddings,
 * conv_in, conv_out). Read by the memory estimate (engine/memory/weight-bytes.ts); quant-plan.test.ts holds the two to
 * the bytes the compiler writes.
 */
export const INT8_EXACT_UNET_WEIGHTS = /time_emb|^conv_(in|out)\./;

/**
 * How one stored weight is written: floats in the graph's type; the int8 plan's two tensors — values and
 * column scales — of a Linear weight (transposed to [in, out]) or a conv kernel (laid out [k²·C, K]); or, in
 * the graph's float type, a 3×3 kernel transformed for the Winograd convolution ([36, K, C], conv-plan.ts).
 */
export type WeightEncoding = 'float' | 'int8' | 'int8-scale' | 'int8-conv' | 'int8-conv-scale' | 'winograd';

/** The int8 plan's encodings. */
export type Int8Encoding = Exclude<WeightEncoding, 'float' | 'winograd'>;

export const isInt8Encoding = (e: WeightEncoding): e is Int8Encoding => e !== 'float' && e !== 'winograd';

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
  const inv = Float64Array.from(scales, (x) => 1 / x);
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(data[base + c] * inv[c]);
      q[base + c] = v > INT8_WEIGHT_MAX ? INT8_WEIGHT_MAX : v < -INT8_WEIGHT_MAX ? -INT8_WEIGHT_MAX : v;
    }
  }
  return { q, scales };
}

/** A conv kernel [K, C, kh, kw] as the im2col weight [(ky, kx, c), K] (row = ky·kw·C + kx·C + c). */
export function convKernelColumns(data: Float32Array, shape: readonly number[]): Float32Array {
  const [K, C, kh, kw] = shape;
  const out = new Float32Array(data.length);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * C + c) * K + k] = data[((k * C + c) * kh + y) * kw + x];
      }
    }
  }
  return out;
}

/**
 * The int8 plan's two tensors of one weight: values and per-output-channel scales. `data` is in graph layout: the
 * transposed Linear weight [in, out] (`shape` = [in, out]), or a conv kernel as stored (`shape` = [K, C, kh, kw]).
 */
export function quantizeWeight(data: Float32Array, shape: readonly number[], conv: boolean): { q: Int8Array; scales: Float32Array } {
  const cols = conv ? shape[0] : shape[1];
  const laid = conv ? convKernelColumns(data, shape) : data;
  return quantizeColumns(laid, laid.length / cols, cols);
}

export const isConvEncoding = (e: WeightEncoding): boolean => e === 'int8-conv' || e === 'int8-conv-scale';

/**
 * The initializer shape of one int8 tensor of a weight whose float layout is `base` ([in, out] for a transposed
 * Linear, [K, C, kh, kw] for a conv kernel): values [in, out] or [k²·C, K]; scales one per output channel.
 */
export function encodedShape(base: readonly number[], encoding: Int8Encoding): number[] {
  const conv = isConvEncoding(encoding);
  const outputs = conv ? base[0] : base[1];
  if (encoding.endsWith('scale')) return [outputs];
  return conv ? [base.reduce((a, d) => a * d, 1) / outputs, outputs] : [...base];
}

/** The bytes, element type and element count of one of the two int8 tensors of a quantised weight. */
export function int8Part(parts: { q: Int8Array; scales: Float32Array }, encoding: WeightEncoding): { bytes: Uint8Array; elemType: 'float32' | 'int8'; numel: number } {
  const { q, scales } = parts;
  if (encoding === 'int8' || encoding === 'int8-conv') return { bytes: new Uint8Array(q.buffer, q.byteOffset, q.byteLength), elemType: 'int8', numel: q.length };
  return { bytes: new Uint8Array(scales.buffer, scales.byteOffset, scales.byteLength), elemType: 'float32', numel: scales.length };
}

const SUFFIX: Record<WeightEncoding, string> = { float: '', int8: '.q7', 'int8-scale': '.q7s', 'int8-conv': '.q7c', 'int8-conv-scale': '.q7cs', winograd: '.wg4' };

/** The key suffix of an encoding (weight keys: canonical name + `.T` when transposed + this). */
export function encodingSuffix(encoding: WeightEncoding | undefined): string {
  return SUFFIX[encoding ?? 'float'];
}
