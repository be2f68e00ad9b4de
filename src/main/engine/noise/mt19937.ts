/**
 * The 32-bit Mersenne Twister exactly as PyTorch's CPU generator runs it (`c10/core/MT19937RNGEngine.h`,
 * read for reference): the state is seeded from the low 32 bits of the 64-bit seed with Knuth's multiplier
 * 1812433253, and outputs are the standard mt19937 tempering. `Math.imul` keeps every product in uint32.
 */
const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class MT19937 {
  private readonly state = new Uint32Array(N);
  private index = N;

  constructor(seed: bigint) {
    // torch keeps the full 64-bit seed for `initial_seed()`, but the engine only sees `seed & 0xffffffff`.
    const s = Number(BigInt.asUintN(64, seed) & 0xffffffffn);
    this.state[0] = s >>> 0;
    for (let j = 1; j < N; j++) {
      const prev = this.state[j - 1];
      this.state[j] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + j) >>> 0;
    }
    this.index = N;
  }

  private twist(): void {
    const st = this.state;
    for (let i = 0; i < N; i++) {
      const y = (st[i] & UPPER_MASK) | (st[(i + 1) % N] & LOWER_MASK);
      st[i] = (st[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    this.index = 0;
  }

  /** Next uint32 (torch `random()`). */
  nextU32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}
