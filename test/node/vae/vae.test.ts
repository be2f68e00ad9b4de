import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseVaeConfig, type VaeConfig } from '../../../src/main/compiler/families/configs';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../../src/main/compiler/families/vae';
import { readNpyF32 } from '../../../src/main/compiler/io/npy';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { compareArrays } from '../../../src/main/verify/compare';
import { openWeightsFile, runGraphOnce } from '../../../src/main/verify/run-graph';
import { rand, randomWeights } from '../clip/random-weights';

const FIX = join(__dirname, '../../fixtures/reference/vae');
const work = mkdtempSync(join(tmpdir(), 'vae-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------------
// A naive AutoencoderKL forward: one image [C][H][W] at a time, plain loops, float64 accumulation.

interface Img {
  c: number;
  h: number;
  w: number;
  d: Float64Array;
}
const img = (c: number, h: number, w: number): Img => ({ c, h, w, d: new Float64Array(c * h * w) });

function conv(x: Img, W: Float32Array, b: Float32Array, out: number, k: number, stride: number, pads: [number, number, number, number]): Img {
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((x.h + pt + pb - k) / stride) + 1;
  const ow = Math.floor((x.w + pl + pr - k) / stride) + 1;
  const y = img(out, oh, ow);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = b[o];
        for (let c = 0; c < x.c; c++)
          for (let u = 0; u < k; u++)
            for (let v = 0; v < k; v++) {
              const yy = i * stride + u - pt;
              const xx = j * stride + v - pl;
              if (yy < 0 || xx < 0 || yy >= x.h || xx >= x.w) continue;
              s += W[((o * x.c + c) * k + u) * k + v] * x.d[(c * x.h + yy) * x.w + xx];
            }
        y.d[(o * oh + i) * ow + j] = s;
      }
  return y;
}

function gn(x: Img, gamma: Float32Array, beta: Float32Array, groups: number): Img {
  const y = img(x.c, x.h, x.w);
  const per = x.c / groups;
  const hw = x.h * x.w;
  for (let g = 0; g < groups; g++) {
    let m = 0;
    for (let i = g * per * hw; i < (g + 1) * per * hw; i++) m += x.d[i];
    m /= per * hw;
    let v = 0;
    for (let i = g * per * hw; i < (g + 1) * per * hw; i++) v += (x.d[i] - m) ** 2;
    v /= per * hw;
    for (let c = g * per; c < (g + 1) * per; c++)
      for (let i = 0; i < hw; i++) y.d[c * hw + i] = ((x.d[c * hw + i] - m) / Math.sqrt(v + 1e-6)) * gamma[c] + beta[c];
  }
  return y;
}

const silu = (x: Img): Img => ({ ...x, d: x.d.map((v) => v / (1 + Math.exp(-v))) });
const add = (a: Img, b: Img): Img => ({ ...a, d: a.d.map((v, i) => v + b.d[i]) });

function naiveVae(w: WeightSet, cfg: VaeConfig) {
  const t = (n: string): Float32Array => w.get(n)!.readF32();
  const conv2 = (x: Img, n: string, stride = 1, pads?: [number, number, number, number]): Img => {
    const W = w.get(`${n}.weight`)!;
    const k = W.shape[2];
    const p = k >> 1;
    return conv(x, W.readF32(), t(`${n}.bias`), W.shape[0], k, stride, pads ?? [p, p, p, p]);
  };
  const G = cfg.norm_num_groups;
  const resnet = (x: Img, p: string): Img => {
    let h = silu(gn(x, t(`${p}.norm1.weight`), t(`${p}.norm1.bias`), G));
    h = conv2(h, `${p}.conv1`);
    h = silu(gn(h, t(`${p}.norm2.weight`), t(`${p}.norm2.bias`), G));
    h = conv2(h, `${p}.conv2`);
    return add(w.has(`${p}.conv_shortcut.weight`) ? conv2(x, `${p}.conv_shortcut`) : x, h);
  };
  const attn = (x: Img, p: string): Img => {
    const n = gn(x, t(`${p}.group_norm.weight`), t(`${p}.group_norm.bias`), G);
    const C = x.c;
    const S = x.h * x.w;
    const proj = (name: string, src: (s: number, c: number) => number): Float64Array => {
      const W = t(`${p}.${name}.weight`);
      const b = t(`${p}.${name}.bias`);
      const o = new Float64Array(S * C);
      for (let s = 0; s < S; s++)
        for (let co = 0; co < C; co++) {
          let acc = b[co];
          for (let ci = 0; ci < C; ci++) acc += W[co * C + ci] * src(s, ci);
          o[s * C + co] = acc;
        }
      return o;
    };
    const q = proj('to_q', (s, c) => n.d[c * S + s]);
    const k = proj('to_k', (s, c) => n.d[c * S + s]);
    const v = proj('to_v', (s, c) => n.d[c * S + s]);
    const ctx = new Float64Array(S * C);
    for (let i = 0; i < S; i++) {
      const sc = new Float64Array(S);
      let m = -Infinity;
      for (let j = 0; j < S; j++) {
        let acc = 0;
        for (let c = 0; c < C; c++) acc += q[i * C + c] * k[j * C + c];
        sc[j] = acc / Math.sqrt(C);
        m = Math.max(m, sc[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += (sc[j] = Math.exp(sc[j] - m));
      for (let j = 0; j < S; j++) for (let c = 0; c < C; c++) ctx[i * C + c] += (sc[j] / z) * v[j * C + c];
    }
    const o = proj('to_out.0', (s, c) => ctx[s * C + c]);
    const y = img(C, x.h, x.w);
    for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) y.d[c * S + s] = o[s * C + c] + x.d[c * S + s];
    return y;
  };
  const mid = (x: Img, p: string): Img => {
    let h = resnet(x, `${p}.resnets.0`);
    if (cfg.mid_block_add_attention) h = attn(h, `${p}.attentions.0`);
    return resnet(h, `${p}.resnets.1`);
  };
  const up2 = (x: Img): Img => {
    const y = img(x.c, x.h * 2, x.w * 2);
    for (let c = 0; c < x.c; c++) for (let i = 0; i < y.h; i++) for (let j = 0; j < y.w; j++) y.d[(c * y.h + i) * y.w + j] = x.d[(c * x.h + (i >> 1)) * x.w + (j >> 1)];
    return y;
  };
  const n = cfg.block_out_channels.length;
  return {
    decode(z: Img): Img {
      let x = cfg.use_post_quant_conv ? conv2(z, 'post_quant_conv') : z;
      x = mid(conv2(x, 'decoder.conv_in'), 'decoder.mid_block');
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= cfg.layers_per_block; j++) x = resnet(x, `decoder.up_blocks.${i}.resnets.${j}`);
        if (i < n - 1) x = conv2(up2(x), `decoder.up_blocks.${i}.upsamplers.0.conv`);
      }
      x = silu(gn(x, t('decoder.conv_norm_out.weight'), t('decoder.conv_norm_out.bias'), G));
      return conv2(x, 'decoder.conv_out');
    },
    encode(im: Img): Img {
      let x = conv2(im, 'encoder.conv_in');
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < cfg.layers_per_block; j++) x = resnet(x, `encoder.down_blocks.${i}.resnets.${j}`);
        if (i < n - 1) x = conv2(x, `encoder.down_blocks.${i}.downsamplers.0.conv`, 2, [0, 0, 1, 1]);
      }
      x = mid(x, 'encoder.mid_block');
      x = silu(gn(x, t('encoder.conv_norm_out.weight'), t('encoder.conv_norm_out.bias'), G));
      x = conv2(x, 'encoder.conv_out');
      return cfg.use_quant_conv ? conv2(x, 'quant_conv') : x;
    },
  };
}

function vaeShapes(cfg: VaeConfig): Record<string, number[]> {
  const s: Record<string, number[]> = {};
  const conv = (p: string, o: number, i: number, k: number): void => {
    s[`${p}.weight`] = [o, i, k, k];
    s[`${p}.bias`] = [o];
  };
  const norm = (p: string, c: number): void => {
    s[`${p}.weight`] = [c];
    s[`${p}.bias`] = [c];
  };
  const resnet = (p: string, i: number, o: number): void => {
    norm(`${p}.norm1`, i);
    conv(`${p}.conv1`, o, i, 3);
    norm(`${p}.norm2`, o);
    conv(`${p}.conv2`, o, o, 3);
    if (i !== o) conv(`${p}.conv_shortcut`, o, i, 1);
  };
  const mid = (p: string, c: number): void => {
    resnet(`${p}.resnets.0`, c, c);
    resnet(`${p}.resnets.1`, c, c);
    if (cfg.mid_block_add_attention) {
      norm(`${p}.attentions.0.group_norm`, c);
      for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
        s[`${p}.attentions.0.${n}.weight`] = [c, c];
        s[`${p}.attentions.0.${n}.bias`] = [c];
      }
    }
  };
  const ch = cfg.block_out_channels;
  const n = ch.length;
  const L = cfg.latent_channels;
  conv('encoder.conv_in', ch[0], cfg.in_channels, 3);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.layers_per_block; j++) resnet(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? (i === 0 ? ch[0] : ch[i - 1]) : ch[i], ch[i]);
    if (i < n - 1) conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, ch[i], ch[i], 3);
  }
  mid('encoder.mid_block', ch[n - 1]);
  norm('encoder.conv_norm_out', ch[n - 1]);
  conv('encoder.conv_out', 2 * L, ch[n - 1], 3);
  if (cfg.use_quant_conv) conv('quant_conv', 2 * L, 2 * L, 1);
  if (cfg.use_post_quant_conv) conv('post_quant_conv', L, L, 1);
  conv('decoder.conv_in', ch[n - 1], L, 3);
  mid('decoder.mid_block', ch[n - 1]);
  const rev = [...ch].reverse();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= cfg.layers_per_block; j++) resnet(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? (i === 0 ? rev[0] : rev[i - 1]) : rev[i], rev[i]);
    if (i < n - 1) conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, rev[i], rev[i], 3);
  }
  norm('decoder.conv_norm_out', ch[0]);
  conv('decoder.conv_out', cfg.out_channels, ch[0], 3);
  return s;
}

function batchOf(imgs: Img[]): Float32Array {
  return Float32Array.from(imgs.flatMap((i) => Array.from(i.d)));
}
function split(data: Float32Array, b: number, c: number, h: number, w: number): Img[] {
  return Array.from({ length: b }, (_, k) => ({ c, h, w, d: Float64Array.from(data.subarray(k * c * h * w, (k + 1) * c * h * w)) }));
}

describe('VAE graphs', () => {
  it('decode and encode equal diffusers on the reference case; the naive reference agrees too', async () => {
    const cfg = parseVaeConfig(JSON.parse(readFileSync(join(FIX, 'config.json'), 'utf8')) as Record<string, unknown>);
    const w = openWeightsFile(join(FIX, 'weights.safetensors'));
    const z = readNpyF32(join(FIX, 'z.npy'));
    const dec = await runGraphOnce(buildVaeDecoderGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8 }), work, { latents: { type: 'float32', dims: z.shape, data: z.data } });
    const want = readNpyF32(join(FIX, 'decoded.npy')).data;
    expect(compareArrays('vae', 'decode', dec.image.data as Float32Array, want).pass).toBe(true);
    const im = readNpyF32(join(FIX, 'image.npy'));
    const enc = await runGraphOnce(buildVaeEncoderGraph(w, cfg, { batch: 2, height: 16, width: 16 }), work, { image: { type: 'float32', dims: im.shape, data: im.data } });
    expect(compareArrays('vae', 'encode', enc.moments.data as Float32Array, readNpyF32(join(FIX, 'encoder_moments.npy')).data).pass).toBe(true);
    const naive = naiveVae(w, cfg);
    const nd = batchOf(split(z.data, 2, 4, 8, 8).map((x) => naive.decode(x)));
    expect(compareArrays('vae', 'naive decode', nd, want).pass).toBe(true);
    w.close();
  });

  it('an fp16 decoder (for GPU providers) stays within half precision of the reference', async () => {
    const cfg = parseVaeConfig(JSON.parse(readFileSync(join(FIX, 'config.json'), 'utf8')) as Record<string, unknown>);
    const w = openWeightsFile(join(FIX, 'weights.safetensors'));
    const z = readNpyF32(join(FIX, 'z.npy'));
    const dec = await runGraphOnce(buildVaeDecoderGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, floatType: 'float16' }), work, { latents: { type: 'float32', dims: z.shape, data: z.data } });
    const c = compareArrays('vae', 'fp16', dec.image.data as Float32Array, readNpyF32(join(FIX, 'decoded.npy')).data);
    expect(c.relL2).toBeLessThan(5e-3);
    expect(c.maxAbs).toBeLessThan(0.02);
    w.close();
  });

  for (const v of [
    { name: '3 levels, 2 layers/block, non-square, batch 3', cfg: { block_out_channels: [8, 16, 16], layers_per_block: 2, norm_num_groups: 4, latent_channels: 3, in_channels: 3, out_channels: 3 }, batch: 3, h: 3, w: 5 },
    { name: '2 levels, no mid attention, no quant convs, 2 out channels', cfg: { block_out_channels: [6, 12], layers_per_block: 1, norm_num_groups: 3, latent_channels: 2, in_channels: 2, out_channels: 2, mid_block_add_attention: false, use_quant_conv: false, use_post_quant_conv: false }, batch: 1, h: 4, w: 3 },
  ]) {
    it(`matches a naive forward: ${v.name}`, async () => {
      const cfg = parseVaeConfig(v.cfg);
      const w = randomWeights(vaeShapes(cfg), v.batch * 10 + v.h);
      const naive = naiveVae(w, cfg);
      const f = 2 ** (cfg.block_out_channels.length - 1);
      const z = rand(v.batch * cfg.latent_channels * v.h * v.w, 77, 1.5);
      const dec = await runGraphOnce(buildVaeDecoderGraph(w, cfg, { batch: v.batch, latentHeight: v.h, latentWidth: v.w }), work, { latents: { type: 'float32', dims: [v.batch, cfg.latent_channels, v.h, v.w], data: z } });
      expect(dec.image.dims).toEqual([v.batch, cfg.out_channels, v.h * f, v.w * f]);
      const wantDec = batchOf(split(z, v.batch, cfg.latent_channels, v.h, v.w).map((x) => naive.decode(x)));
      const cd = compareArrays('vae', 'decode', dec.image.data as Float32Array, wantDec);
      expect(cd.pass, `decode max_abs=${cd.maxAbs}`).toBe(true);
      const H = v.h * f;
      const W = v.w * f;
      const im = rand(v.batch * cfg.in_channels * H * W, 78, 1);
      const enc = await runGraphOnce(buildVaeEncoderGraph(w, cfg, { batch: v.batch, height: H, width: W }), work, { image: { type: 'float32', dims: [v.batch, cfg.in_channels, H, W], data: im } });
      expect(enc.moments.dims).toEqual([v.batch, 2 * cfg.latent_channels, v.h, v.w]);
      const wantEnc = batchOf(split(im, v.batch, cfg.in_channels, H, W).map((x) => naive.encode(x)));
      const ce = compareArrays('vae', 'encode', enc.moments.data as Float32Array, wantEnc);
      expect(ce.pass, `encode max_abs=${ce.maxAbs}`).toBe(true);
    });
  }

  it('accepts 1×1-conv attention weights (single-file form) and rejects sizes the encoder cannot halve', async () => {
    const cfg = parseVaeConfig({ block_out_channels: [4, 8], layers_per_block: 1, norm_num_groups: 2, latent_channels: 2 });
    const w = randomWeights(vaeShapes(cfg), 5);
    const z = rand(2 * 2 * 2, 3);
    const a = await runGraphOnce(buildVaeDecoderGraph(w, cfg, { batch: 1, latentHeight: 2, latentWidth: 2 }), work, { latents: { type: 'float32', dims: [1, 2, 2, 2], data: z } });
    for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
      const key = `decoder.mid_block.attentions.0.${n}.weight`;
      w.set(key, [8, 8, 1, 1], w.get(key)!.readF32());
    }
    const b = await runGraphOnce(buildVaeDecoderGraph(w, cfg, { batch: 1, latentHeight: 2, latentWidth: 2 }), work, { latents: { type: 'float32', dims: [1, 2, 2, 2], data: z } });
    expect(b.image.data).toEqual(a.image.data);
    expect(() => buildVaeEncoderGraph(w, cfg, { batch: 1, height: 5, width: 4 })).toThrow(/multiple of 2/);
  });
});
