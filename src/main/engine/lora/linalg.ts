/**
 * The few dense kernels LoRA maths needs, in plain float32 loops. Ranks are small, so C += A·B is done row by
 * row with the rank as the middle loop: each inner loop streams one contiguous row of B into one row of C,
 * which is what V8 runs fastest without SIMD.
 */

/** C[m,n] = A[m,k] · B[k,n] (row-major). */
export function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`matmul: [${m},${k}]·[${k},${n}] got ${a.length} and ${b.length} values`);
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      if (av === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
  return c;
}

/** Transpose a row-major [rows, cols] matrix. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** In place: x *= s. */
export function scaleInPlace(x: Float32Array, s: number): Float32Array {
  if (s !== 1) for (let i = 0; i < x.length; i++) x[i] *= s;
  return x;
}

/** Elementwise product, in place into `a`. */
export function hadamardInPlace(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new Error(`hadamard: ${a.length} vs ${b.length} values`);
  for (let i = 0; i < a.length; i++) a[i] *= b[i];
  return a;
}

/**
 * Tucker rebuild used by LoHa (hada_t1/t2) and LoKr (lokr_t2):
 * W[p, q, kh, kw] = Σ_{i,j} t[i, j, kh, kw] · b[j, q] · a[i, p], i.e. einsum('i j k l, j r, i p -> p r k l', t, b, a).
 * `t` [R1, R2, kh, kw], `b` [R2, Q], `a` [R1, P] → [P, Q, kh, kw].
 */
export function tuckerRebuild(t: Float32Array, tShape: readonly number[], b: Float32Array, q: number, a: Float32Array, p: number): Float32Array {
  const [r1, r2, kh, kw] = tShape;
  const s = kh * kw;
  if (t.length !== r1 * r2 * s || b.length !== r2 * q || a.length !== r1 * p) {
    throw new Error(`tucker: t [${tShape.join(',')}], b ${b.length} values for [${r2},${q}], a ${a.length} values for [${r1},${p}]`);
  }
  // u[i, q, s] = Σ_j t[i, j, s] · b[j, q]
  const u = new Float32Array(r1 * q * s);
  for (let i = 0; i < r1; i++) {
    for (let j = 0; j < r2; j++) {
      for (let qq = 0; qq < q; qq++) {
        const bv = b[j * q + qq];
        if (bv === 0) continue;
        const uo = (i * q + qq) * s;
        const to = (i * r2 + j) * s;
        for (let x = 0; x < s; x++) u[uo + x] += t[to + x] * bv;
      }
    }
  }
  // W[p, q, s] = Σ_i a[i, p] · u[i, q, s]
  const qs = q * s;
  const w = new Float32Array(p * qs);
  for (let pp = 0; pp < p; pp++) {
    for (let i = 0; i < r1; i++) {
      const av = a[i * p + pp];
      if (av === 0) continue;
      const uo = i * qs;
      const wo = pp * qs;
      for (let x = 0; x < qs; x++) w[wo + x] += av * u[uo + x];
    }
  }
  return w;
}

/**
 * kron(W1, W2) laid out as a weight [a·b, c·d, ...rest]: element [i·b + j, k·d + l, rest] = W1[i,k] · W2[j, l, rest].
 * W1 [a, c]; W2 [b, d·rest] where rest = kh·kw (1 for Linear) — the LyCORIS LoKr layout.
 */
export function kronWeight(w1: Float32Array, a: number, c: number, w2: Float32Array, b: number, d: number, rest: number): Float32Array {
  if (w1.length !== a * c || w2.length !== b * d * rest) throw new Error(`kron: W1 ${w1.length} for [${a},${c}], W2 ${w2.length} for [${b},${d}×${rest}]`);
  const inner = c * d * rest;
  const out = new Float32Array(a * b * inner);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const row = (i * b + j) * inner;
      for (let k = 0; k < c; k++) {
        const v = w1[i * c + k];
        const o = row + k * d * rest;
        const w2o = j * d * rest;
        for (let x = 0; x < d * rest; x++) out[o + x] = v * w2[w2o + x];
      }
    }
  }
  return out;
}
