import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClipTextGraph } from '../../../src/main/compiler/families/clip-text';
import { parseClipTextConfig, type ClipTextConfig } from '../../../src/main/compiler/families/configs';
import { readNpy, readNpyF32 } from '../../../src/main/compiler/io/npy';
import type { WeightSet } from '../../../src/main/compiler/io/tensor';
import { compareArrays } from '../../../src/main/verify/compare';
import { openWeightsFile, runGraphOnce } from '../../../src/main/verify/run-graph';
import { randomWeights } from './random-weights';

const FIX = join(__dirname, '../../fixtures/reference/clip_text');
const work = mkdtempSync(join(tmpdir(), 'clip-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** transformers CLIPTextModel, written naively (loops over every index) as an independent reference. */
function naiveClip(w: WeightSet, cfg: ClipTextConfig, ids: number[][]): { hidden: Float32Array[][]; final: (h: Float32Array[]) => Float32Array[] } {
  const H = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const d = H / heads;
  const get = (n: string): Float32Array => w.get(`text_model.${n}`)!.readF32();
  const lin = (x: Float32Array, n: string, out: number): Float32Array => {
    const W = get(`${n}.weight`);
    const b = get(`${n}.bias`);
    const inF = x.length;
    const y = new Float32Array(out);
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += W[o * inF + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const ln = (x: Float32Array, n: string): Float32Array => {
    const g = get(`${n}.weight`);
    const b = get(`${n}.bias`);
    let mean = 0;
    for (const v of x) mean += v;
    mean /= x.length;
    let vr = 0;
    for (const v of x) vr += (v - mean) ** 2;
    vr /= x.length;
    return x.map((v, i) => ((v - mean) / Math.sqrt(vr + cfg.layer_norm_eps)) * g[i] + b[i]);
  };
  const act = (v: number): number => (cfg.hidden_act === 'gelu' ? 0.5 * v * (1 + erf(v / Math.SQRT2)) : v / (1 + Math.exp(-1.702 * v)));
  const tok = get('embeddings.token_embedding.weight');
  const pos = get('embeddings.position_embedding.weight');
  const hidden: Float32Array[][] = ids.map(() => []);
  ids.forEach((seq, b) => {
    let x = seq.map((id, t) => Float32Array.from({ length: H }, (_, c) => tok[id * H + c] + pos[t * H + c]));
    const states: Float32Array[][] = [x];
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const p = `encoder.layers.${l}`;
      const h = x.map((v) => ln(v, `${p}.layer_norm1`));
      const q = h.map((v) => lin(v, `${p}.self_attn.q_proj`, H).map((e) => e / Math.sqrt(d)));
      const k = h.map((v) => lin(v, `${p}.self_attn.k_proj`, H));
      const vv = h.map((v) => lin(v, `${p}.self_attn.v_proj`, H));
      const ctx = x.map(() => new Float32Array(H));
      for (let hd = 0; hd < heads; hd++) {
        for (let i = 0; i < x.length; i++) {
          const sc: number[] = [];
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let c = 0; c < d; c++) s += q[i][hd * d + c] * k[j][hd * d + c];
            sc.push(s);
          }
          const m = Math.max(...sc);
          const e = sc.map((s) => Math.exp(s - m));
          const z = e.reduce((a, b2) => a + b2, 0);
          for (let j = 0; j <= i; j++) for (let c = 0; c < d; c++) ctx[i][hd * d + c] += (e[j] / z) * vv[j][hd * d + c];
        }
      }
      const r1 = x.map((v, i) => {
        const o = lin(ctx[i], `${p}.self_attn.out_proj`, H);
        return v.map((e, c) => e + o[c]);
      });
      const r2 = r1.map((v) => {
        const f = lin(ln(v, `${p}.layer_norm2`), `${p}.mlp.fc1`, cfg.intermediate_size).map(act);
        const o = lin(f, `${p}.mlp.fc2`, H);
        return v.map((e, c) => e + o[c]);
      });
      x = r2;
      states.push(x);
    }
    hidden[b] = states.map((s) => s.flatMap((v) => Array.from(v))).map((a) => Float32Array.from(a));
  });
  return { hidden, final: (hs) => hs.map((flat) => {
    const out = new Float32Array(flat.length);
    for (let t = 0; t < flat.length / H; t++) out.set(ln(flat.subarray(t * H, (t + 1) * H), 'final_layer_norm'), t * H);
    return out;
  }) };
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is only 1e-7 accurate; use a series/continued fraction good to ~1e-15 instead.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)) * (1 - 1 / (2 * t * t) + 3 / (4 * t ** 4)));
}

function cat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function clipShapes(cfg: ClipTextConfig): Record<string, number[]> {
  const H = cfg.hidden_size;
  const s: Record<string, number[]> = {
    'text_model.embeddings.token_embedding.weight': [cfg.vocab_size, H],
    'text_model.embeddings.position_embedding.weight': [cfg.max_position_embeddings, H],
    'text_model.final_layer_norm.weight': [H],
    'text_model.final_layer_norm.bias': [H],
  };
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `text_model.encoder.layers.${l}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      s[`${p}.self_attn.${n}.weight`] = [H, H];
      s[`${p}.self_attn.${n}.bias`] = [H];
    }
    for (const n of ['layer_norm1', 'layer_norm2']) {
      s[`${p}.${n}.weight`] = [H];
      s[`${p}.${n}.bias`] = [H];
    }
    s[`${p}.mlp.fc1.weight`] = [cfg.intermediate_size, H];
    s[`${p}.mlp.fc1.bias`] = [cfg.intermediate_size];
    s[`${p}.mlp.fc2.weight`] = [H, cfg.intermediate_size];
    s[`${p}.mlp.fc2.bias`] = [H];
  }
  return s;
}

describe('CLIP text graph', () => {
  it('equals transformers on the reference case (last hidden state, every layer, clip skip 2)', async () => {
    const cfg = parseClipTextConfig(JSON.parse(readFileSync(join(FIX, 'config.json'), 'utf8')) as Record<string, unknown>);
    const w = openWeightsFile(join(FIX, 'weights.safetensors'));
    const ids = readNpy(join(FIX, 'input_ids.npy'));
    const graph = buildClipTextGraph(w, cfg, { batch: 2, hiddenStates: true });
    // position_ids in the file must never be read
    expect(graph.initializers.some((i) => i.name.includes('position_ids'))).toBe(false);
    const out = await runGraphOnce(graph, work, { input_ids: { type: 'int64', dims: [2, 77], data: ids.data as BigInt64Array } });
    for (const [name, file] of [['last_hidden_state', 'last_hidden_state.npy'], ['hidden_states', 'hidden_states.npy'], ['penultimate_normed', 'clip_skip2_embeds.npy']]) {
      const c = compareArrays('clip', name, out[name].data as Float32Array, readNpyF32(join(FIX, file)).data);
      expect(c.pass, `${name} max_abs=${c.maxAbs}`).toBe(true);
    }
    // the naive reference used below agrees with transformers too (first sequence), so it is a fair judge
    const ref = naiveClip(w, cfg, [Array.from(ids.data as BigInt64Array, Number).slice(0, 77)]);
    const c = compareArrays('clip', 'naive', cat(ref.final([ref.hidden[0][cfg.num_hidden_layers]])), readNpyF32(join(FIX, 'last_hidden_state.npy')).data.subarray(0, 77 * cfg.hidden_size));
    expect(c.pass, `naive max_abs=${c.maxAbs}`).toBe(true);
    w.close();
  });

  it('an fp16 graph (for GPU providers) stays within half precision of the reference', async () => {
    const cfg = parseClipTextConfig(JSON.parse(readFileSync(join(FIX, 'config.json'), 'utf8')) as Record<string, unknown>);
    const w = openWeightsFile(join(FIX, 'weights.safetensors'));
    const ids = readNpy(join(FIX, 'input_ids.npy'));
    const graph = buildClipTextGraph(w, cfg, { batch: 2, floatType: 'float16' });
    expect(graph.inputs[0].elemType).toBe('int64');
    expect(graph.outputs[0].elemType).toBe('float16');
    const out = await runGraphOnce(graph, work, { input_ids: { type: 'int64', dims: [2, 77], data: ids.data as BigInt64Array } });
    const c = compareArrays('clip', 'fp16', out.last_hidden_state.data as Float32Array, readNpyF32(join(FIX, 'last_hidden_state.npy')).data);
    expect(c.relL2).toBeLessThan(5e-3);
    expect(c.maxAbs).toBeLessThan(0.03);
    w.close();
  });

  // Other sizes than the fixture: heads, depth, widths, sequence length, batch, activation, clip skip.
  for (const variant of [
    { hidden_size: 24, num_attention_heads: 3, num_hidden_layers: 4, intermediate_size: 40, hidden_act: 'gelu', seq: 12, batch: 3, clipSkip: 3 },
    { hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 20, hidden_act: 'quick_gelu', seq: 9, batch: 1, clipSkip: 2 },
  ] as const) {
    it(`matches a naive forward for hidden ${variant.hidden_size}, ${variant.num_attention_heads} heads, ${variant.num_hidden_layers} layers, ${variant.hidden_act}`, async () => {
      const cfg = parseClipTextConfig({ ...variant, vocab_size: 50, max_position_embeddings: 16, layer_norm_eps: 1e-5 });
      const w = randomWeights(clipShapes(cfg), variant.hidden_size);
      const ids = Array.from({ length: variant.batch }, (_, b) => Array.from({ length: variant.seq }, (_, t) => (b * 7 + t * 13) % 50));
      const graph = buildClipTextGraph(w, cfg, { batch: variant.batch, seqLen: variant.seq, clipSkip: variant.clipSkip });
      const out = await runGraphOnce(graph, work, { input_ids: { type: 'int64', dims: [variant.batch, variant.seq], data: BigInt64Array.from(ids.flat(), BigInt) } });
      const ref = naiveClip(w, cfg, ids);
      const L = cfg.num_hidden_layers;
      const at = (k: number): Float32Array => cat(ref.final(ref.hidden.map((h) => h[k])));
      const checks: Array<[string, Float32Array]> = [['last_hidden_state', at(L)], ['penultimate_normed', at(L - 1)]];
      if (variant.clipSkip > 2) checks.push(['clip_skip_normed', at(L + 1 - variant.clipSkip)]);
      for (const [name, want] of checks) {
        const c = compareArrays('clip', name, out[name].data as Float32Array, want);
        expect(c.pass, `${name} max_abs=${c.maxAbs}`).toBe(true);
      }
      // padding is not masked: changing a later token must change no earlier position (causal) but change the last
      const ids2 = ids.map((s) => s.map((t, i) => (i === s.length - 1 ? (t + 1) % 50 : t)));
      const out2 = await runGraphOnce(graph, work, { input_ids: { type: 'int64', dims: [variant.batch, variant.seq], data: BigInt64Array.from(ids2.flat(), BigInt) } });
      const a = out.last_hidden_state.data as Float32Array;
      const b = out2.last_hidden_state.data as Float32Array;
      const H = cfg.hidden_size;
      expect(a.subarray(0, (variant.seq - 1) * H)).toEqual(b.subarray(0, (variant.seq - 1) * H));
      expect(Math.max(...Array.from(a.subarray((variant.seq - 1) * H, variant.seq * H), (v, i) => Math.abs(v - b[(variant.seq - 1) * H + i])))).toBeGreaterThan(1e-3);
    });
  }

  it('refuses a clip skip deeper than the model and heads that do not divide the width', () => {
    const cfg = parseClipTextConfig({ hidden_size: 16, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 20, vocab_size: 50, max_position_embeddings: 16 });
    const w = randomWeights(clipShapes(cfg));
    expect(() => buildClipTextGraph(w, cfg, { batch: 1, seqLen: 8, clipSkip: 3 })).toThrow(/CLIP skip/);
    expect(() => buildClipTextGraph(w, { ...cfg, num_attention_heads: 3 }, { batch: 1, seqLen: 8 })).toThrow(/heads/);
    expect(() => buildClipTextGraph(w, cfg, { batch: 1, seqLen: 17 })).toThrow(/positions/);
  });
});
