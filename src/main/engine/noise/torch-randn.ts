import { logF32, sinCosF32 } from './cephes-f32';
import { MT19937 } from './mt19937';

/**
 * PyTorch's CPU `randn` (torch 1.13, x86-64), reproduced so that a seed gives the same clip here as in diffusers,
 * ComfyUI or A1111 (seed = torch.Generator('cpu').manual_seed(seed); torch.randn(shape, generator=g, dtype=float32)).
 *
 * Read for reference (not copied): aten/src/ATen/native/cpu/DistributionTemplates.h (`normal_kernel`,
 * `normal_fill`, `normal_fill_16`, the AVX2 variant in DistributionKernels.cpp), core/DistributionsHelper.h
 * (`uniform_real_distribution`, `normal_distribution`), core/TransformationHelper.h (`uniform_real`),
 * CPUGeneratorImpl.cpp (`random64`, the cached second normal sample).
 *
 * Two paths, chosen per tensor by its element count:
 * - **≥ 16 elements** (contiguous float32): first draw `size` float uniforms (24 random bits each), then turn
 *   each block of 16 into normals with Box–Muller (u1 = 1 − data[j], u2 = data[j+8], j < 8). When `size` is
 *   not a multiple of 16, 16 *fresh* uniforms overwrite the last 16 slots and are transformed again (so the
 *   tail overlaps the last full block).
 * - **< 16 elements**: one `normal_distribution<double>` call per element, each pair of 53-bit double uniforms
 *   giving r·cos θ now and caching r·sin θ in the generator for the next call, even the next call of a later
 *   `randn`. The cache lives with the generator, which is why one stream object must serve every draw.
 *
 * The fill path runs in float32 with the float log/sincos approximations of torch's AVX2 kernel (cephes-f32.ts),
 * which makes it bit-identical to torch on x86-64 AVX2 (what the fixtures and nearly every diffusers/ComfyUI
 * install on a PC run). torch's non-AVX builds (e.g. ARM Macs) use libm in the same place and differ in the last
 * bit of some values (≤ 5e-7); the scalar path uses double libm maths everywhere and matches exactly.
 */
export const NOISE_GENERATOR = { name: 'torch-cpu-randn', version: '1' } as const;

const TWO_POW_24 = 16777216;
const TWO_POW_53 = 9007199254740992;
const f32 = Math.fround;
/** float(2π) as torch's fill kernel uses it (`2.0f * c10::pi<double>` stored as float). */
const TWO_PI_F32 = f32(2 * Math.PI);

export class TorchCpuGenerator {
  private readonly engine: MT19937;
  /** torch's `next_double_normal_sample_`: the sin half of the last scalar Box–Muller pair. */
  private cachedNormal: number | undefined;
  readonly seed: bigint;

  constructor(seed: bigint | number) {
    if (typeof seed === 'number' && (!Number.isSafeInteger(seed) || seed < 0)) {
      throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    }
    // Python's manual_seed takes seeds modulo 2^64 (negative ones wrap); keep that for bigints.
    this.seed = BigInt.asUintN(64, BigInt(seed));
    this.engine = new MT19937(this.seed);
  }

  /** float32 uniform in [0, 1) from 24 random bits (torch `uniform_real_distribution<float>`). */
  private uniformF32(): number {
    return (this.engine.nextU32() & 0xffffff) / TWO_POW_24;
  }

  /** double uniform in [0, 1) from 53 bits of `random64()` = (first u32 << 32) | second u32. */
  private uniformF64(): number {
    const hi = this.engine.nextU32() & 0x1fffff; // top 21 of the 53 bits
    const lo = this.engine.nextU32();
    return (hi * 4294967296 + lo) / TWO_POW_53;
  }

  /** One standard normal the scalar way (`normal_distribution<double>`), using and refilling the cache. */
  private scalarNormal(): number {
    if (this.cachedNormal !== undefined) {
      const v = this.cachedNormal;
      this.cachedNormal = undefined;
      return v;
    }
    const u1 = this.uniformF64();
    const u2 = this.uniformF64();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Draws `torch.randn(shape, dtype=float32)` from this stream (C order). */
  randn(shape: readonly number[]): Float32Array {
    let size = 1;
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`bad shape [${shape.join(', ')}]`);
      size *= d;
    }
    const out = new Float32Array(size);
    if (size < 16) {
      for (let i = 0; i < size; i++) out[i] = this.scalarNormal();
      return out;
    }
    for (let i = 0; i < size; i++) out[i] = this.uniformF32();
    for (let i = 0; i + 16 <= size; i += 16) boxMuller16(out, i);
    if (size % 16 !== 0) {
      const start = size - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformF32();
      boxMuller16(out, start);
    }
    return out;
  }

  /**
   * `torch.randperm(n, generator)` on the CPU (aten `randperm_cpu`, small-n branch, n < 2^32/20): a Fisher–Yates
   * walk over 0..n−1 where step i swaps r[i] with r[i + (word mod (n − i))]; n − 1 words (none for n ≤ 1). It
   * leaves the cached scalar normal alone, so randn / randperm interleave exactly as on one torch generator.
   */
  randperm(n: number): number[] {
    if (!Number.isInteger(n) || n < 0 || n >= 214748364) throw new RangeError(`randperm needs 0 ≤ n < 2^32/20, got ${n}`);
    const r = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i + 1 < n; i++) {
      const z = this.engine.nextU32() % (n - i);
      const t = r[i];
      r[i] = r[i + z];
      r[i + z] = t;
    }
    return r;
  }
}

/** Box–Muller on 16 uniforms in place: u1 = 1 − data[j], u2 = data[j + 8], float32 throughout (torch AVX2). */
function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - data[offset + j]);
    const u2 = data[offset + j + 8];
    const radius = f32(Math.sqrt(f32(-2 * logF32(u1))));
    const [sin, cos] = sinCosF32(f32(TWO_PI_F32 * u2));
    data[offset + j] = f32(radius * cos);
    data[offset + j + 8] = f32(radius * sin);
  }
}
