/**
 * `npm run bench -- lora` (or `npx tsx bench/lora.ts [--ranks 32,128] [--no-session] [--blocks-only] [--no-blocks]
 * [--no-model-set] [--model-set-only] [--slot-rank R]`):
 * LoRA run-time switching at full SD1.5 size with random weights (shapes from test/fixtures/manifests).
 *
 * Measured, per LoRA rank (a kohya LoRA on every transformer-block Linear/1×1 conv of the UNet — 192 modules —
 * and every CLIP attention/MLP Linear — 72 modules — the usual "264 keys×3" layout):
 *   1. normalise + key matching (applyLoraStack);
 *   2. mechanism (ii) switch: building the low-rank slot feeds (no session is created);
 *   3. mechanism (i) switch: overlay weights file (merge via onnxruntime GEMM, streamed write) + small .onnx,
 *      and — unless --no-session — a new onnxruntime session on base + overlay (full UNet graph, base weights
 *      file of 3.4 GB written once beforehand and not counted);
 *   4. per-step cost of (ii): one full-width transformer block (the layers LoRA targets) with and without rank-R
 *      slots, at SD1.5's token counts for 512² (C=320 @ 64×64, C=1280 @ 16×16), plus the whole-UNet estimate
 *      from multiply-add counts (UNet 401.6 GMAC/sample at 64×64, tech brief §8).
 *   0. first, the engine's real path (`modelSetBench`): ModelSet.setLoras on a loaded full-size model, and whole
 *      UNet + motion calls with and without slots at a CPU-affordable shape (2 frames × 16×16 latent).
 * A full UNet step at 8 frames × 64×64 is not run here: it takes minutes on this 2-core machine.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseClipTextConfig, parseUNetConfig } from '../src/main/compiler/families/configs';
import { buildClipTextGraph } from '../src/main/compiler/families/clip-text';
import { buildUNetGraph } from '../src/main/compiler/families/unet';
import { GraphBuilder } from '../src/main/compiler/graph/builder';
import { emitGraphFile, emitModel, emitWeights } from '../src/main/compiler/graph/emit';
import { gelu, layerNorm, linear, multiHeadAttention } from '../src/main/compiler/graph/layers';
import type { TensorTable, TensorView, WeightSet } from '../src/main/compiler/io/tensor';
import { GemmMerger } from '../src/main/engine/lora/gemm-merger';
import { linearWithLoraSlot, type LoraSlot, type SlotMode } from '../src/main/compiler/graph/lora-slots';
import { lowRankFeeds } from '../src/main/engine/lora/lowrank-feeds';
import { applyLoraStack } from '../src/main/engine/lora/stack';
import { writeLoraOverlay, type OverlayTiming } from '../src/main/engine/lora/overlay';
import { LoraSwitcher } from '../src/main/engine/lora/switcher';
import { createSession, f32Tensor, type HostTensor } from '../src/main/engine/runtime/session';
import { ANIMATELCM_MOTION, CLIP_L_TEXT, SD15_UNET, SD15_VAE } from '../src/main/compiler/families/configs';
import { writeSafetensors, type TensorToWrite } from '../src/main/compiler/io/safetensors';
import { DEFAULT_LORA_RANK } from '../src/main/engine/models/lora-feeds';
import { ModelSet } from '../src/main/engine/models/model-set';
import type { ModelSource } from '../src/main/engine/models/model-source';
import { randomModelSource } from './model-set';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export interface BenchResult {
  suite: string;
  rows: BenchRow[];
  notes: string[];
}

export interface LoraBenchOptions {
  ranks?: number[];
  /** Create full-UNet onnxruntime sessions (writes a 3.4 GB base weights file to a temp folder). Default true. */
  session?: boolean;
  /** Measure the switch (normalise, feeds, overlay, sessions). Default true; false = per-step block timings only. */
  switch?: boolean;
  /** Time the per-step block variants. Default true. */
  blocks?: boolean;
  /** Repetitions of each block timing (median reported). */
  reps?: number;
  /**
   * Measure the engine's real path: a ModelSet over full-size random SD1.5 + AnimateLCM motion weights with
   * rank-R slots, `setLoras` on it, and whole UNet + motion calls with and without slots. Default true.
   */
  modelSet?: boolean;
  /** Compiled slot rank for the ModelSet part (default the engine's DEFAULT_LORA_RANK). */
  slotRank?: number;
  /** Only the ModelSet part. */
  modelSetOnly?: boolean;
  log?: (line: string) => void;
}

const here = dirname(fileURLToPath(import.meta.url));
const MANIFESTS = join(here, '../test/fixtures/manifests');

interface Manifest {
  config: Record<string, unknown>;
  diffusers: Record<string, { shape: number[]; dtype: string }>;
}

function readManifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(MANIFESTS, name), 'utf8')) as Manifest;
}

/** Deterministic random tensor contents (xorshift), generated on read and not kept unless `pin`ned. */
function randomFill(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = ((x >>> 0) * 2.3283064365386963e-10 - 0.5) * scale;
  }
  return a;
}

class RandomWeights implements WeightSet {
  private readonly views = new Map<string, TensorView>();
  private readonly pinned = new Map<string, Float32Array>();
  constructor(manifest: Manifest) {
    let seed = 1;
    for (const [name, info] of Object.entries(manifest.diffusers)) {
      const s = seed++;
      const n = info.shape.reduce((a, b) => a * b, 1);
      const isInt = info.dtype.startsWith('int');
      const read = (): Float32Array => this.pinned.get(name) ?? (isInt ? Float32Array.from({ length: n }, (_, i) => i % 77) : randomFill(n, s, 0.05));
      this.views.set(name, { name, dtype: 'F32', shape: info.shape, readF32: read, readRaw: () => new Uint8Array(read().buffer) });
    }
  }
  /** Keep these tensors in memory (stands for the page-cached base weights a loaded model has). */
  pin(names: Iterable<string>): void {
    for (const n of names) this.pinned.set(n, this.views.get(n)!.readF32());
  }
  names(): string[] {
    return [...this.views.keys()];
  }
  get(n: string): TensorView | undefined {
    return this.views.get(n);
  }
  has(n: string): boolean {
    return this.views.has(n);
  }
}

const UNET_TARGET = /^(.*attentions\.\d+)\.(proj_in|proj_out|transformer_blocks\.0\.(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.0\.proj|ff\.net\.2))\.weight$/;
const TE_TARGET = /^text_model\.encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])\.weight$/;

/** A kohya LoRA over every targeted module of `unet` and `te`, rank r, alpha r/2, as an in-memory table. */
function syntheticKohya(unet: WeightSet, te: WeightSet, rank: number): { table: TensorTable; unetTargets: string[] } {
  const views = new Map<string, TensorView>();
  const add = (name: string, shape: number[], data: Float32Array): void => {
    views.set(name, { name, dtype: 'F32', shape, readF32: () => data, readRaw: () => new Uint8Array(data.buffer) });
  };
  let seed = 1000;
  const unetTargets: string[] = [];
  for (const [prefix, w, re] of [['lora_unet_', unet, UNET_TARGET], ['lora_te_', te, TE_TARGET]] as const) {
    for (const n of w.names()) {
      if (!re.test(n)) continue;
      if (prefix === 'lora_unet_') unetTargets.push(n);
      const shape = w.get(n)!.shape;
      const out = shape[0];
      const inn = shape.slice(1).reduce((a, b) => a * b, 1);
      const mod = prefix + n.slice(0, -'.weight'.length).replace(/\./g, '_');
      const conv = shape.length === 4;
      add(`${mod}.lora_down.weight`, conv ? [rank, inn, 1, 1] : [rank, inn], randomFill(rank * inn, seed++, 0.02));
      add(`${mod}.lora_up.weight`, conv ? [out, rank, 1, 1] : [out, rank], randomFill(out * rank, seed++, 0.02));
      add(`${mod}.alpha`, [], Float32Array.of(rank / 2));
    }
  }
  return {
    table: { container: 'memory', path: `synthetic-kohya-r${rank}.safetensors`, metadata: {}, names: () => [...views.keys()], get: (n) => views.get(n), close: () => undefined },
    unetTargets,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One SD1.5 transformer block's LoRA-targeted layers + its attention, at width C over T tokens, optional slots. */
async function blockSession(C: number, T: number, rank: number | undefined, mode: SlotMode, dir: string): Promise<{ run(): Promise<number>; dispose(): Promise<void> }> {
  const g = new GraphBuilder(`block_${C}_${T}_${rank ?? 0}_${mode}`);
  const w = new Map<string, TensorView>();
  let seed = 7;
  const lin = (name: string, out: number, inn: number): void => {
    const data = randomFill(out * inn, seed++, 0.05);
    w.set(`${name}.weight`, { name: `${name}.weight`, dtype: 'F32', shape: [out, inn], readF32: () => data, readRaw: () => new Uint8Array(data.buffer) });
  };
  const ln = (name: string): void => {
    const one = new Float32Array(C).fill(1);
    const zero = new Float32Array(C);
    w.set(`${name}.weight`, { name: `${name}.weight`, dtype: 'F32', shape: [C], readF32: () => one, readRaw: () => new Uint8Array(one.buffer) });
    w.set(`${name}.bias`, { name: `${name}.bias`, dtype: 'F32', shape: [C], readF32: () => zero, readRaw: () => new Uint8Array(zero.buffer) });
  };
  const ws: WeightSet = { names: () => [...w.keys()], get: (n) => w.get(n), has: (n) => w.has(n) };
  const layers: Array<[string, number, number]> = [
    ['proj_in', C, C], ['attn1.to_q', C, C], ['attn1.to_k', C, C], ['attn1.to_v', C, C], ['attn1.to_out.0', C, C],
    ['attn2.to_q', C, C], ['attn2.to_k', C, 768], ['attn2.to_v', C, 768], ['attn2.to_out.0', C, C],
    ['ff.net.0.proj', 8 * C, C], ['ff.net.2', C, 4 * C], ['proj_out', C, C],
  ];
  for (const [n, o, i] of layers) lin(n, o, i);
  for (const n of ['norm1', 'norm2', 'norm3']) ln(n);
  const feeds: Record<string, HostTensor> = {};
  const L = (name: string, x: string): string => {
    if (rank === undefined) return linear(g, ws, name, x);
    const [, o, i] = layers.find((l) => l[0] === name)!;
    const slot: LoraSlot = { module: name, kind: 'linear', inFeatures: i, outFeatures: o };
    // zero-filled feeds cost the same as real ones: the kernels do not skip zeros
    feeds[`lora_down:${name}`] = f32Tensor(new Float32Array(i * rank), [rank, i]);
    feeds[`lora_up:${name}`] = f32Tensor(new Float32Array(rank * o), [o, rank]);
    return linearWithLoraSlot(g, ws, slot, x, rank, mode);
  };
  const x0 = g.input('x', 'float32', [1, T, C]);
  const ctx = g.input('ctx', 'float32', [1, 77, 768]);
  let h = L('proj_in', x0);
  const heads = 8;
  let n = layerNorm(g, ws, 'norm1', h, 1e-5);
  h = g.op('Add', [h, L('attn1.to_out.0', multiHeadAttention(g, L('attn1.to_q', n), L('attn1.to_k', n), L('attn1.to_v', n), heads, { batch: 1, queries: T, keys: T, channels: C }, 'mha1'))]);
  n = layerNorm(g, ws, 'norm2', h, 1e-5);
  h = g.op('Add', [h, L('attn2.to_out.0', multiHeadAttention(g, L('attn2.to_q', n), L('attn2.to_k', ctx), L('attn2.to_v', ctx), heads, { batch: 1, queries: T, keys: 77, channels: C }, 'mha2'))]);
  n = layerNorm(g, ws, 'norm3', h, 1e-5);
  const p = L('ff.net.0.proj', n);
  const [a, gate] = g.opN('Split', [p, g.i64([4 * C, 4 * C])], 2, { axis: { kind: 'int', value: -1 } });
  h = g.op('Add', [h, L('ff.net.2', g.op('Mul', [a, gelu(g, gate)]))]);
  g.output(L('proj_out', h), 'y', 'float32', [1, T, C]);
  const { modelPath } = emitModel(g.build(), { dir: join(dir, g.name), modelFile: 'block.onnx' });
  const s = await createSession(modelPath, { providers: ['cpu'] });
  const all = { x: f32Tensor(randomFill(T * C, 3, 1), [1, T, C]), ctx: f32Tensor(randomFill(77 * 768, 4, 1), [1, 77, 768]), ...feeds };
  await s.run(all); // warm-up
  return {
    async run() {
      const t0 = performance.now();
      await s.run(all);
      return performance.now() - t0;
    },
    dispose: () => s.dispose(),
  };
}

/** Extra multiply-adds of rank-R slots per 512² UNet sample, from the SD1.5 token counts (no LoRA in resnets). */
function slotMacsPerSample(rank: number): number {
  // transformer blocks: 5 at C=320 (4096 tokens), 5 at 640 (1024), 5 at 1280 (256), mid at 1280 (64)
  const blocks: Array<[number, number, number]> = [[320, 4096, 5], [640, 1024, 5], [1280, 256, 5], [1280, 64, 1]];
  let macs = 0;
  for (const [C, T, count] of blocks) {
    const spatial = T * rank * (2 * C /* proj_in */ + 4 * 2 * C /* attn1 */ + 2 * 2 * C /* attn2 q,out */ + 9 * C /* ff0 */ + 5 * C /* ff2 */ + 2 * C /* proj_out */);
    const context = 77 * rank * 2 * (768 + C); // attn2 k,v on the text tokens
    macs += count * (spatial + context);
  }
  return macs;
}

/** Elements of every UNet weight the synthetic LoRA targets (the 'weight'-mode merge cost per call is R × this). */
function unetTargetsElems(unet: WeightSet): number {
  let n = 0;
  for (const k of unet.names()) if (UNET_TARGET.test(k)) n += unet.get(k)!.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Writes the synthetic kohya LoRA as a real .safetensors file (the engine reads LoRAs from disk). */
function writeSyntheticKohya(path: string, unet: WeightSet, te: WeightSet, rank: number): number {
  const { table } = syntheticKohya(unet, te, rank);
  const tensors: TensorToWrite[] = table.names().map((n) => {
    const v = table.get(n)!;
    return { name: n, dtype: 'F32', shape: v.shape, data: v.readF32() };
  });
  writeSafetensors(path, tensors, { ss_network_dim: String(rank), ss_network_alpha: String(rank / 2) });
  return tensors.reduce((a, t) => a + t.data.byteLength, 0);
}

/**
 * The engine's own switch path at full size: ModelSet (compile cache in a temp folder, sessions) over random
 * SD1.5 UNet + AnimateLCM motion module + CLIP-L weights, one UNet shape that a shared 2-core CPU can afford
 * (batch 1, 2 frames, 16×16 latent, 77 tokens — full-size weights, small activations). Measures
 *   - `setLoras` (read the LoRA file, normalise, key-match, build the slot feeds): "stack changed → first step
 *     can start", with the session count checked unchanged (no compile, no base weight read);
 *   - a whole UNet + motion call with slots (empty stack, then the LoRA fed) and, in a second ModelSet compiled
 *     without slots, the same call: the per-step overhead at this shape. The two sets run one after the other
 *     (two full-size sessions at once would not fit beside the other engineers' work), so load drift between
 *     the phases is in the figure; each is a median.
 */
async function modelSetBench(ranks: number[], slotRank: number, reps: number, row: (name: string, value: number, unit: string, note?: string) => void, log: (l: string) => void): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'lora-bench-ms-'));
  try {
    const rnd = randomModelSource('random SD1.5 + AnimateLCM motion', { unet: SD15_UNET, motion: ANIMATELCM_MOTION, vae: SD15_VAE, text: CLIP_L_TEXT });
    const source: ModelSource = {
      label: rnd.label,
      isStarter: false,
      configs: { unet: SD15_UNET, motion: ANIMATELCM_MOTION, vae: SD15_VAE, text_encoder: CLIP_L_TEXT },
      weights: { unet: rnd.unet, motion: rnd.motion, vae: rnd.vae, text_encoder: rnd.text },
      identity: { unet: 'bench-random-sd15+motion', vae: 'bench-random-vae', text_encoder: 'bench-random-clip' },
      close: () => undefined,
    };
    const shape = { batch: 1, frames: 2, latentHeight: 16, latentWidth: 16, tokens: 77 };
    const N = shape.batch * shape.frames;
    const sample = randomFill(N * 4 * 16 * 16, 11, 2);
    const context = randomFill(N * 77 * 768, 12, 2);
    const timed = async (f: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await f();
      return performance.now() - t0;
    };
    const files = new Map<number, string>();
    for (const r of ranks) {
      const f = join(root, `style-r${r}.safetensors`);
      const bytes = writeSyntheticKohya(f, rnd.unet, rnd.text, r);
      files.set(r, f);
      log(`(setup) rank-${r} LoRA file: ${(bytes / 2 ** 20).toFixed(0)} MiB`);
    }

    // 1. with slots: the switch timings
    const set = new ModelSet(source, { cacheRoot: join(root, 'cache-slots'), providers: ['cpu'], loraRank: slotRank });
    let plain: ModelSet | undefined;
    const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
    try {
      const first = await timed(() => set.unet(sample, 999, context, shape));
      log(`(setup) ModelSet with rank-${slotRank} slots: compile + session + first UNet call ${(first / 1000).toFixed(1)} s; rss ${gib(process.memoryUsage().rss)}, available ${gib(freemem())}`);
      await set.encodeText(Array.from({ length: 77 }, (_, i) => (i === 0 ? 49406 : 49407)), 1);
      const sessions = set.stats.sessionsCreated;
      for (const r of ranks) {
        const file = files.get(r)!;
        let t0 = performance.now();
        const sw = set.setLoras([{ path: file, weight: 0.8 }]);
        const switchMs = performance.now() - t0;
        t0 = performance.now();
        set.setLoras([{ path: file, weight: 0.5 }]);
        const weightMs = performance.now() - t0;
        const firstStep = await timed(() => set.unet(sample, 999, context, shape));
        if (set.stats.sessionsCreated !== sessions) throw new Error('a stack switch opened a session');
        row(`r${r} ModelSet.setLoras: stack changed → first step can start`, switchMs, 'ms', `${sw.reports[0].message}; ${sw.paths.unet}/${sw.paths.text_encoder}; 0 new sessions, 0 base weight reads; then a weight change alone ${weightMs.toFixed(0)} ms; first UNet call after it ${(firstStep / 1000).toFixed(1)} s`);
      }
      // the largest LoRA stays fed for the per-call comparison (zeros would cost the same: kernels do not skip them)

      // 2. the same model compiled without slots, opened beside it when memory allows, so that the two are timed
      // round-robin and load from other processes hits both alike
      const together = freemem() > 8 * 2 ** 30;
      if (!together) log(`(setup) only ${gib(freemem())} available: timing the two sets one after the other`);
      const slotTimes: number[] = [];
      const plainTimes: number[] = [];
      if (!together) {
        for (let i = 0; i < reps; i++) slotTimes.push(await timed(() => set.unet(sample, 999 - 100 * i, context, shape)));
        await set.dispose();
      }
      plain = new ModelSet(source, { cacheRoot: join(root, 'cache-plain'), providers: ['cpu'], loraRank: 0 });
      await plain.unet(sample, 999, context, shape);
      log(`(setup) ModelSet without slots opened; rss ${gib(process.memoryUsage().rss)}, available ${gib(freemem())}`);
      // two untimed calls each first: the second set's weights pushed the first's out of the page cache
      for (let i = 0; i < 2; i++) {
        await plain.unet(sample, 500, context, shape);
        if (together) await set.unet(sample, 500, context, shape);
      }
      for (let i = 0; i < reps; i++) {
        const t = 999 - 100 * i;
        plainTimes.push(await timed(() => plain!.unet(sample, t, context, shape)));
        if (together) slotTimes.push(await timed(() => set.unet(sample, t, context, shape)));
      }
      const plainMs = median(plainTimes);
      const slotMs = median(slotTimes);
      const how = together ? 'round-robin' : 'one after the other';
      const what = `UNet + motion call, batch 1 × 2 frames, 16×16 latent, full-size weights, median of ${reps} (${how})`;
      const min = (xs: number[]): number => Math.min(...xs);
      row('UNet + motion call without slots', plainMs, 'ms', `${what}; fastest ${min(plainTimes).toFixed(0)} ms`);
      row(`UNet + motion call with rank-${slotRank} slots (rank-${ranks[ranks.length - 1]} LoRA fed)`, slotMs, 'ms', `${slotMs >= plainMs ? '+' : ''}${(((slotMs - plainMs) / plainMs) * 100).toFixed(1)} % / ${(slotMs - plainMs).toFixed(0)} ms per call vs without slots (medians); fastest ${min(slotTimes).toFixed(0)} ms = ${(((min(slotTimes) - min(plainTimes)) / min(plainTimes)) * 100).toFixed(1)} %${together ? `; median of the per-round ratios ${((median(slotTimes.map((x, i) => x / plainTimes[i])) - 1) * 100).toFixed(1)} %` : ''}; all times ${slotTimes.map((x) => x.toFixed(0)).join(', ')} vs ${plainTimes.map((x) => x.toFixed(0)).join(', ')}`);
    } finally {
      await set.dispose();
      await plain?.dispose();
      rmSync(join(root, 'cache-slots'), { recursive: true, force: true });
      rmSync(join(root, 'cache-plain'), { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runLoraBench(opts: LoraBenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const ranks = opts.ranks ?? [32, 128];
  const reps = opts.reps ?? 9;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const row = (name: string, value: number, unit: string, note?: string): void => {
    rows.push({ name, value, unit, note });
    log(`${name}: ${unit === 'ms' ? value.toFixed(0) : value.toFixed(2)} ${unit}${note ? `  (${note})` : ''}`);
  };
  if (opts.modelSet !== false) {
    await modelSetBench(ranks, opts.slotRank ?? DEFAULT_LORA_RANK, opts.reps ?? 9, row, log);
    notes.push(`ModelSet rows: the engine's real path (rank-${opts.slotRank ?? DEFAULT_LORA_RANK} slots), LoRA read from a .safetensors file; per-call times are medians of the two sets timed round-robin (or one after the other when memory was short — the row says which).`);
  }
  if (opts.modelSetOnly) return { suite: 'lora', rows, notes };
  const dir = mkdtempSync(join(tmpdir(), 'lora-bench-'));
  const gemm = new GemmMerger();
  try {
    const um = readManifest('sd15_unet.json');
    const tm = readManifest('clip_vit_l14_text.json');
    const unet = new RandomWeights(um);
    const te = new RandomWeights(tm);
    const ucfg = parseUNetConfig(um.config);
    const tcfg = parseClipTextConfig(tm.config);
    const unetGraph = buildUNetGraph(unet, ucfg, { batch: 1, latentHeight: 64, latentWidth: 64 });
    const teGraph = buildClipTextGraph(te, tcfg, { batch: 1, seqLen: 77 });

    // Base weights files, written once (a loaded model's compile cache); not part of any switch timing.
    let t = performance.now();
    const withSession = (opts.session ?? true) && opts.switch !== false;
    const unetIndex = withSession ? emitWeights([unetGraph], { dir, weightsFile: 'unet.bin' }) : new Map();
    const teIndex = withSession ? emitWeights([teGraph], { dir, weightsFile: 'te.bin' }) : new Map();
    if (withSession) {
      emitGraphFile(unetGraph, unetIndex, { dir, modelFile: 'unet.onnx' });
      emitGraphFile(teGraph, teIndex, { dir, modelFile: 'te.onnx' });
      log(`(setup) base weights files written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      t = performance.now();
      const s = await createSession(join(dir, 'unet.onnx'), { providers: ['cpu'] });
      row('base UNet session creation (reference point)', performance.now() - t, 'ms', 'full SD1.5 UNet, 64×64 latent, fp32, mmapped external data');
      await s.dispose();
    }

    for (const rank of opts.switch === false ? [] : ranks) {
      const { table, unetTargets } = syntheticKohya(unet, te, rank);
      unet.pin(unetTargets); // a loaded model's base tensors are in the page cache; random generation is not the cost
      te.pin(te.names().filter((n) => TE_TARGET.test(n)));
      const stack = [{ file: table, weight: 0.8 }];

      t = performance.now();
      const applied = applyLoraStack({ unet, text_encoder: te }, stack);
      const normMs = performance.now() - t;
      row(`r${rank} normalise + key matching`, normMs, 'ms', applied.reports[0].message);

      // (ii) low-rank slots: the switch is building feeds
      const slots: LoraSlot[] = unetTargets.map((n) => {
        const s = unet.get(n)!.shape;
        return { module: n.slice(0, -'.weight'.length), kind: s.length === 4 ? 'conv1x1' : 'linear', inFeatures: s.slice(1).reduce((a, b) => a * b, 1), outFeatures: s[0] };
      });
      t = performance.now();
      const fr = lowRankFeeds(applied, slots, rank);
      const feedMs = performance.now() - t;
      row(`r${rank} (ii) stack changed → first step can start`, normMs + feedMs, 'ms', `normalise + ${slots.length} slot feeds (${feedMs.toFixed(0)} ms), no new session; fallback ${fr.fallback.length}`);

      // (i) merged overlay + new session
      t = performance.now();
      let prepared: Awaited<ReturnType<LoraSwitcher['prepare']>> | undefined;
      let ou: OverlayTiming;
      let ot: OverlayTiming;
      if (withSession) {
        const switcher = new LoraSwitcher(
          { unet, text_encoder: te },
          { unet: { graph: unetGraph, baseIndex: unetIndex, dir, modelFile: 'unet.onnx' }, text_encoder: { graph: teGraph, baseIndex: teIndex, dir, modelFile: 'te.onnx' } },
          gemm,
        );
        prepared = await switcher.prepare(stack);
        ou = prepared.timing.overlay.unet!;
        ot = prepared.timing.overlay.text_encoder!;
      } else {
        // no base index without the base files: time the overlay files alone
        ou = (await writeLoraOverlay({ graphs: [unetGraph], merged: applied.unet!, dir, file: `unet.r${rank}.bin`, gemm })).timing;
        ot = (await writeLoraOverlay({ graphs: [teGraph], merged: applied.text_encoder!, dir, file: `te.r${rank}.bin`, gemm })).timing;
      }
      const prepMs = performance.now() - t;
      row(`r${rank} (i) overlay files written`, prepMs, 'ms', `UNet ${ou.tensors} tensors ${(ou.bytes / 2 ** 20).toFixed(0)} MiB (merge ${ou.mergeMs.toFixed(0)} ms, write ${ou.writeMs.toFixed(0)} ms); TE ${ot.tensors} tensors (merge ${ot.mergeMs.toFixed(0)} ms, write ${ot.writeMs.toFixed(0)} ms)`);
      if (prepared) {
        t = performance.now();
        const s = await createSession(prepared.models.unet!, { providers: ['cpu'] });
        const sessMs = performance.now() - t;
        await s.dispose();
        t = performance.now();
        const s2 = await createSession(prepared.models.text_encoder!, { providers: ['cpu'] });
        const teSessMs = performance.now() - t;
        await s2.dispose();
        row(`r${rank} (i) new UNet + TE sessions on base + overlay`, sessMs + teSessMs, 'ms', `UNet ${sessMs.toFixed(0)} ms, TE ${teSessMs.toFixed(0)} ms`);
        row(`r${rank} (i) stack changed → first step can start`, prepMs + sessMs + teSessMs, 'ms');
      }
    }

    // per-step overhead of (ii), both slot forms, one 512² sample (the worst case for 'weight' mode). The
    // variants run round-robin so that load from other processes hits them alike; medians are reported.
    const blockCases: Array<[number, number]> = opts.blocks === false ? [] : [[320, 4096], [1280, 256]];
    for (const [C, T] of blockCases) {
      const variants: Array<{ label: string; rank?: number; mode: SlotMode }> = [{ label: 'without slots', mode: 'weight' }];
      for (const rank of ranks) for (const mode of ['weight', 'activation'] as SlotMode[]) variants.push({ label: `r${rank} ${mode}`, rank, mode });
      const sessions = [];
      for (const v of variants) sessions.push(await blockSession(C, T, v.rank, v.mode, dir));
      const times: number[][] = variants.map(() => []);
      for (let i = 0; i < reps; i++) for (let j = 0; j < variants.length; j++) times[j].push(await sessions[j].run());
      for (const s of sessions) await s.dispose();
      const baseMs = median(times[0]);
      row(`transformer block C=${C} T=${T} without slots`, baseMs, 'ms', `median of ${reps}`);
      for (let j = 1; j < variants.length; j++) {
        const ms = median(times[j]);
        const v = variants[j];
        row(`r${v.rank} (ii-${v.mode}) block C=${C} T=${T} with slots`, ms, 'ms', `${ms >= baseMs ? '+' : ''}${(((ms - baseMs) / baseMs) * 100).toFixed(1)} % on this block`);
      }
    }
    const touchedElems = unetTargetsElems(unet);
    for (const rank of ranks) {
      const w = (rank * touchedElems) / 1e9;
      const a = slotMacsPerSample(rank) / 1e9;
      row(`r${rank} (ii-weight) extra MACs per UNet call`, w, 'GMAC', `${((w / 401.6) * 100).toFixed(2)} % of one 512² sample; ${((w / (16 * (401.6 + 153))) * 100).toFixed(3)} % of an AnimateLCM call at 8 frames × CFG (16 samples, motion modules included)`);
      row(`r${rank} (ii-activation) extra MACs per UNet sample`, a, 'GMAC', `${((a / 401.6) * 100).toFixed(2)} % of 401.6 GMAC; does not shrink with batch`);
    }
    notes.push('CPU: shared 2-core machine; other work was running, so absolute times are noisy (medians of block runs).');
  } finally {
    await gemm.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return { suite: 'lora', rows, notes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const ri = args.indexOf('--ranks');
  const ranks = ri >= 0 ? args[ri + 1].split(',').map(Number) : undefined;
  const si = args.indexOf('--slot-rank');
  runLoraBench({
    ranks,
    session: !args.includes('--no-session'),
    switch: !args.includes('--blocks-only'),
    blocks: !args.includes('--no-blocks'),
    modelSet: !args.includes('--no-model-set'),
    modelSetOnly: args.includes('--model-set-only'),
    slotRank: si >= 0 ? Number(args[si + 1]) : undefined,
  })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
