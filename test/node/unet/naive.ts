/**
 * A deliberately plain float64 forward of diffusers' UNet2DConditionModel and AnimateDiff motion modules, for
 * tests only: loops over arrays, written from diffusers' module definitions (not from the graph builder), so
 * the ONNX graph can be checked on configurations the reference fixtures do not cover.
 */

export interface T {
  shape: number[];
  data: Float64Array;
}

export type Lookup = (name: string) => T;

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
export const tensor = (shape: number[], data?: ArrayLike<number>): T => ({ shape, data: data ? Float64Array.from(data) : new Float64Array(numel(shape)) });

export function conv2d(x: T, w: T, b: T | undefined, stride: number, pad: number): T {
  const [n, ci, h, wd] = x.shape;
  const [co, ci2, kh, kw] = w.shape;
  if (ci !== ci2) throw new Error(`conv2d: ${ci} vs ${ci2} channels`);
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
  const y = tensor([n, co, oh, ow]);
  for (let b0 = 0; b0 < n; b0++)
    for (let o = 0; o < co; o++)
      for (let yy = 0; yy < oh; yy++)
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < ci; c++)
            for (let ky = 0; ky < kh; ky++) {
              const iy = yy * stride - pad + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = xx * stride - pad + kx;
                if (ix < 0 || ix >= wd) continue;
                s += x.data[((b0 * ci + c) * h + iy) * wd + ix] * w.data[((o * ci + c) * kh + ky) * kw + kx];
              }
            }
          y.data[((b0 * co + o) * oh + yy) * ow + xx] = s;
        }
  return y;
}

/** GroupNorm whose statistics pool the group's channels over every row listed in one entry of `pools`. */
function groupNormPooled(x: T, groups: number, eps: number, gamma: T, beta: T, pools: number[][]): T {
  const [, c] = x.shape;
  const per = numel(x.shape.slice(2));
  const cg = c / groups;
  const y = tensor(x.shape);
  for (const rows of pools)
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      let cnt = 0;
      for (const r of rows)
        for (let ch = g * cg; ch < (g + 1) * cg; ch++)
          for (let i = 0; i < per; i++) {
            sum += x.data[(r * c + ch) * per + i];
            cnt++;
          }
      const mean = sum / cnt;
      let v = 0;
      for (const r of rows) for (let ch = g * cg; ch < (g + 1) * cg; ch++) for (let i = 0; i < per; i++) v += (x.data[(r * c + ch) * per + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / cnt + eps);
      for (const r of rows)
        for (let ch = g * cg; ch < (g + 1) * cg; ch++)
          for (let i = 0; i < per; i++) {
            const k = (r * c + ch) * per + i;
            y.data[k] = (x.data[k] - mean) * inv * gamma.data[ch] + beta.data[ch];
          }
    }
  return y;
}

export function groupNorm(x: T, groups: number, eps: number, gamma: T, beta: T): T {
  return groupNormPooled(x, groups, eps, gamma, beta, Array.from({ length: x.shape[0] }, (_, i) => [i]));
}

/** diffusers' 5-D motion GroupNorm: rows b·F … b·F+F−1 (one video) share statistics. */
export function groupNormVideo(x: T, frames: number, groups: number, eps: number, gamma: T, beta: T): T {
  const b = x.shape[0] / frames;
  return groupNormPooled(x, groups, eps, gamma, beta, Array.from({ length: b }, (_, v) => Array.from({ length: frames }, (_, f) => v * frames + f)));
}

export function linear(x: T, w: T, b: T | undefined): T {
  const [o, i] = w.shape;
  const rows = x.data.length / i;
  const y = tensor([...x.shape.slice(0, -1), o]);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < o; k++) {
      let s = b ? b.data[k] : 0;
      for (let j = 0; j < i; j++) s += x.data[r * i + j] * w.data[k * i + j];
      y.data[r * o + k] = s;
    }
  return y;
}

export function layerNorm(x: T, gamma: T, beta: T, eps: number): T {
  const d = x.shape[x.shape.length - 1];
  const y = tensor(x.shape);
  for (let r = 0; r < x.data.length / d; r++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += x.data[r * d + j];
    m /= d;
    let v = 0;
    for (let j = 0; j < d; j++) v += (x.data[r * d + j] - m) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let j = 0; j < d; j++) y.data[r * d + j] = (x.data[r * d + j] - m) * inv * gamma.data[j] + beta.data[j];
  }
  return y;
}

/** softmax(q·kᵀ/√dh)·v per head; q [B,S,D], k/v [B,L,D]. */
export function attentionCore(q: T, k: T, v: T, heads: number): T {
  const [b, s, d] = q.shape;
  const l = k.shape[1];
  const dh = d / heads;
  const scale = 1 / Math.sqrt(dh);
  const y = tensor(q.shape);
  const p = new Float64Array(l);
  for (let bi = 0; bi < b; bi++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < s; i++) {
        let mx = -Infinity;
        for (let j = 0; j < l; j++) {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += q.data[(bi * s + i) * d + h * dh + e] * k.data[(bi * l + j) * d + h * dh + e];
          p[j] = dot * scale;
          mx = Math.max(mx, p[j]);
        }
        let z = 0;
        for (let j = 0; j < l; j++) z += p[j] = Math.exp(p[j] - mx);
        for (let e = 0; e < dh; e++) {
          let acc = 0;
          for (let j = 0; j < l; j++) acc += p[j] * v.data[(bi * l + j) * d + h * dh + e];
          y.data[(bi * s + i) * d + h * dh + e] = acc / z;
        }
      }
  return y;
}

export const map = (x: T, f: (v: number) => number): T => ({ shape: x.shape, data: x.data.map(f) });
export const add = (a: T, b: T): T => {
  if (a.data.length !== b.data.length) throw new Error('add: sizes differ');
  return { shape: a.shape, data: a.data.map((v, i) => v + b.data[i]) };
};
export const silu = (x: T): T => map(x, (v) => v / (1 + Math.exp(-v)));

/** erf to ~1e-15 for |x| < 3 (Taylor series); Abramowitz–Stegun 7.1.26 (≤1.5e-7) beyond, where GELU barely depends on it. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return Math.sign(x) * y;
}
export const geluScalar = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
export const gelu = (x: T): T => map(x, geluScalar);

/** Channel concatenation of NCHW tensors. */
export function catChannels(a: T, b: T): T {
  const [n, ca, h, w] = a.shape;
  const cb = b.shape[1];
  const hw = h * w;
  const y = tensor([n, ca + cb, h, w]);
  for (let i = 0; i < n; i++) {
    y.data.set(a.data.subarray(i * ca * hw, (i + 1) * ca * hw), i * (ca + cb) * hw);
    y.data.set(b.data.subarray(i * cb * hw, (i + 1) * cb * hw), (i * (ca + cb) + ca) * hw);
  }
  return y;
}

/** torch F.interpolate(mode='nearest', size): src = floor(dst · in / out). */
export function upsampleNearest(x: T, oh: number, ow: number): T {
  const [n, c, h, w] = x.shape;
  const y = tensor([n, c, oh, ow]);
  for (let p = 0; p < n * c; p++)
    for (let yy = 0; yy < oh; yy++)
      for (let xx = 0; xx < ow; xx++) y.data[(p * oh + yy) * ow + xx] = x.data[(p * h + Math.floor((yy * h) / oh)) * w + Math.floor((xx * w) / ow)];
  return y;
}

/** NCHW ↔ [N, H·W, C]. */
export function toTokens(x: T): T {
  const [n, c, h, w] = x.shape;
  const y = tensor([n, h * w, c]);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) y.data[(i * h * w + p) * c + ch] = x.data[(i * c + ch) * h * w + p];
  return y;
}
export function fromTokens(x: T, h: number, w: number): T {
  const [n, , c] = x.shape;
  const y = tensor([n, c, h, w]);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) y.data[(i * c + ch) * h * w + p] = x.data[(i * h * w + p) * c + ch];
  return y;
}
