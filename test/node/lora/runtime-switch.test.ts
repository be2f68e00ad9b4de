import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClipTextGraph } from '../../../src/main/compiler/families/clip-text';
import { parseClipTextConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import type { GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { readNpyF32 } from '../../../src/main/compiler/io/npy';
import { writeSafetensors, type TensorToWrite } from '../../../src/main/compiler/io/safetensors';
import type { TensorView, WeightSet } from '../../../src/main/compiler/io/tensor';
import { slotsFor } from '../../../src/main/compiler/graph/lora-slots';
import { MergedWeights } from '../../../src/main/engine/lora/merged-weights';
import { planRuntimeStack } from '../../../src/main/engine/lora/runtime-stack';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource, type LoraSpec, type ModelSource } from '../../../src/main/engine/models/model-source';
import { textToVideo, type TextToVideoRequest } from '../../../src/main/engine/pipelines/text-to-video';
import { createSession, f32Tensor, type EngineSession, type HostTensor } from '../../../src/main/engine/runtime/session';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import { compareArrays } from '../../../src/main/verify/compare';
import { INT8_MAX_REL_L2 } from '../../../src/main/verify/run';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import { maxAbsDiff, openBase, rand, REF, removeTmpDirs, tmpDir } from './fixtures';

/**
 * Run-time LoRA switching as the engine does it: graphs compiled once with rank-R slots, stacks fed per run.
 * (a) slot path == merged path (and == the reference) on every fixture `lora` run, UNet and text encoder;
 * (b) switching on a loaded ModelSet opens no session and reads no base weight;
 * (c) weight 0 / empty stack == the plain model; (d) generations before and after a switch are reproducible.
 */
const base = openBase();
afterAll(() => {
  base.close();
  removeTmpDirs();
});

const R = 16;
const ID = (f: string): string => f;

async function sessionOf(graph: GraphIR): Promise<EngineSession> {
  return createSession(emitModel(graph, { dir: tmpDir(), modelFile: 'm.onnx' }).modelPath);
}

interface FixtureRun {
  dir: string;
  name: string;
  loras: Array<{ file: string; weight: number }>;
  noisePred: Record<string, string>;
  te?: string;
}

/** Every run of every `kind: lora` case (files.json), as the verify kind reads them. */
function fixtureRuns(): FixtureRun[] {
  const out: FixtureRun[] = [];
  for (const c of readdirSync(REF).sort()) {
    const fj = join(REF, c, 'files.json');
    if (!existsSync(fj)) continue;
    const files = JSON.parse(readFileSync(fj, 'utf8')) as { kind: string; base?: { motion_adapter?: string }; runs?: Array<{ name: string; loras: Array<{ file: string; multiplier: number }>; outputs: { noise_pred?: Record<string, string>; te_last_hidden_state?: string } }> };
    // MotionLoRA cases run on UNet + motion: their slot path is tested in motion-lora.test.ts.
    if (files.kind !== 'lora' || files.base?.motion_adapter) continue;
    for (const r of files.runs ?? []) {
      out.push({ dir: join(REF, c), name: `${c}/${r.name}`, loras: r.loras.map((l) => ({ file: join(REF, c, l.file), weight: l.multiplier })), noisePred: r.outputs.noise_pred ?? {}, te: r.outputs.te_last_hidden_state });
    }
  }
  return out;
}

describe('(a) slot path == merged path on the fixture LoRA runs', () => {
  const runs = fixtureRuns();
  const unetCfg = parseUNetConfig(JSON.parse(readFileSync(join(REF, 'unet2d/config.json'), 'utf8')) as Record<string, unknown>);
  const teCfg = parseClipTextConfig(JSON.parse(readFileSync(join(REF, 'clip_text/config.json'), 'utf8')) as Record<string, unknown>);
  const unetSlots = slotsFor(base.unet);
  const teSlots = slotsFor(base.text_encoder);
  /** The slotted graphs over the base weights are compiled once and shared by every run whose stack fits the slots. */
  const shared = new Map<string, Promise<EngineSession>>();
  const opened: Array<Promise<EngineSession>> = [];
  afterAll(async () => {
    for (const p of opened) await (await p).dispose();
  });
  const slotted = (key: string, build: () => GraphIR, mergedKey: string | undefined): Promise<EngineSession> => {
    if (mergedKey) {
      const p = sessionOf(build());
      opened.push(p);
      return p;
    }
    let p = shared.get(key);
    if (!p) shared.set(key, (p = sessionOf(build())));
    opened.push(p);
    return p;
  };

  it('finds the fixture runs and gives every transformer Linear/1×1 a slot', () => {
    expect(runs.length).toBeGreaterThanOrEqual(8);
    expect(unetSlots.some((s) => s.kind === 'conv1x1' && s.module.endsWith('proj_in'))).toBe(true);
    expect(unetSlots.filter((s) => /attn[12]\.to_(q|k|v|out\.0)$/.test(s.module)).length).toBe(4 * 2 * unetSlots.filter((s) => s.module.endsWith('proj_in')).length);
    expect(teSlots.length).toBe(6 * teCfg.num_hidden_layers);
  });

  it.each(fixtureRuns().map((r) => [r.name, r] as const))('%s: UNet noise_pred and text encoder output', async (_name, run) => {
    const applied = applyLoraStack(base, run.loras);
    const sample = readNpyF32(join(run.dir, 'sample.npy'));
    const context = readNpyF32(join(run.dir, 'encoder_hidden_states.npy'));
    const shape = { batch: sample.shape[0], latentHeight: sample.shape[2], latentWidth: sample.shape[3], contextLength: context.shape[1] };

    const plan = planRuntimeStack(applied, 'unet', unetSlots, R, ID);
    expect(plan.slottedLayers + plan.mergedLayers).toBeGreaterThan(0);
    // LyCORIS modules cannot ride on slots; plain low-rank ones on transformer layers always do here (rank ≤ 16)
    if (run.loras.some((l) => /loha|lokr/.test(l.file))) expect(plan.mergedWhy.join(' ')).toMatch(/LoHa|LoKr/);
    else expect(plan.slottedLayers).toBeGreaterThan(0);
    expect(plan.mergedWhy.join(' ')).not.toMatch(/total rank/);
    const slotWeights: WeightSet = plan.mergedKey ? new MergedWeights(base.unet, plan.merged) : base.unet;
    const slotSession = await slotted(`unet ${JSON.stringify(shape)}`, () => buildUNetGraph(slotWeights, unetCfg, { ...shape, loraSlots: { rank: R } }), plan.mergedKey);
    const mergedSession = await sessionOf(buildUNetGraph(applied.unet!, unetCfg, shape));
    try {
      for (const [t, refFile] of Object.entries(run.noisePred)) {
        const feeds = { sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(Number(t)), [1]), encoder_hidden_states: f32Tensor(context.data, context.shape) };
        const viaSlots = (await slotSession.run({ ...feeds, ...plan.feeds })).noise_pred.data as Float32Array;
        const viaMerged = (await mergedSession.run(feeds)).noise_pred.data as Float32Array;
        const c = compareArrays(run.name, `slots vs merged noise_pred t${t}`, viaSlots, viaMerged);
        expect(c.pass, `${c.what} max_abs=${c.maxAbs}`).toBe(true);
        const ref = compareArrays(run.name, `slots vs reference t${t}`, viaSlots, readNpyF32(join(run.dir, refFile)).data);
        expect(ref.pass, `${ref.what} max_abs=${ref.maxAbs}`).toBe(true);
      }
    } finally {
      await mergedSession.dispose();
    }

    if (!run.te || !existsSync(join(run.dir, 'te_input_ids.npy'))) return;
    const ids = readNpyF32Ids(join(run.dir, 'te_input_ids.npy'));
    const tePlan = planRuntimeStack(applied, 'text_encoder', teSlots, R, ID);
    const teSlotW: WeightSet = tePlan.mergedKey ? new MergedWeights(base.text_encoder, tePlan.merged) : base.text_encoder;
    const teSlot = await slotted(`te ${ids.dims.join('x')}`, () => buildClipTextGraph(teSlotW, teCfg, { batch: ids.dims[0], seqLen: ids.dims[1], loraSlots: { rank: R } }), tePlan.mergedKey);
    const teMerged = await sessionOf(buildClipTextGraph(applied.text_encoder!, teCfg, { batch: ids.dims[0], seqLen: ids.dims[1] }));
    try {
      const a = (await teSlot.run({ input_ids: ids, ...tePlan.feeds }, { outputs: ['last_hidden_state'] })).last_hidden_state.data as Float32Array;
      const b = (await teMerged.run({ input_ids: ids }, { outputs: ['last_hidden_state'] })).last_hidden_state.data as Float32Array;
      expect(compareArrays(run.name, 'te slots vs merged', a, b).pass).toBe(true);
      expect(compareArrays(run.name, 'te slots vs reference', a, readNpyF32(join(run.dir, run.te)).data).pass).toBe(true);
    } finally {
      await teMerged.dispose();
    }
  });

  it('merges, per layer, the LoRAs that would overflow the compiled rank (and still matches)', async () => {
    const stack = [
      { file: join(REF, 'lora_kohya_alphas/lora_kohya_alphas.safetensors'), weight: 0.7 },
      { file: join(REF, 'lora/lora_kohya.safetensors'), weight: 0.5 },
    ];
    const applied = applyLoraStack(base, stack);
    const wide = planRuntimeStack(applied, 'unet', unetSlots, R, ID);
    const ranks = wide.usedRank;
    const narrow = planRuntimeStack(applied, 'unet', unetSlots, ranks - 1, ID);
    expect(narrow.mergedKey).toBeDefined();
    expect(narrow.mergedWhy.join(' ')).toMatch(/total rank above the compiled/);
    const run = fixtureRuns().find((r) => r.name === 'lora_kohya_alphas/m0.8')!;
    const sample = readNpyF32(join(run.dir, 'sample.npy'));
    const context = readNpyF32(join(run.dir, 'encoder_hidden_states.npy'));
    const shape = { batch: sample.shape[0], latentHeight: sample.shape[2], latentWidth: sample.shape[3], contextLength: context.shape[1] };
    const feeds = { sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(259), [1]), encoder_hidden_states: f32Tensor(context.data, context.shape) };
    const s1 = await sessionOf(buildUNetGraph(new MergedWeights(base.unet, narrow.merged), unetCfg, { ...shape, loraSlots: { rank: ranks - 1 } }));
    const s2 = await sessionOf(buildUNetGraph(applied.unet!, unetCfg, shape));
    try {
      const a = (await s1.run({ ...feeds, ...narrow.feeds })).noise_pred.data as Float32Array;
      const b = (await s2.run(feeds)).noise_pred.data as Float32Array;
      expect(compareArrays('overflow', 'noise_pred', a, b).pass).toBe(true);
    } finally {
      await s1.dispose();
      await s2.dispose();
    }
  });
});

function readNpyF32Ids(path: string): HostTensor {
  // te_input_ids.npy is int64; the npy reader gives numbers through readNpy in the verify helpers, so read raw
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new BigInt64Array(buf.buffer.slice(buf.byteOffset + 10 + headerLen, buf.byteOffset + buf.byteLength));
  return { type: 'int64', dims: shape.length === 1 ? [1, shape[0]] : shape, data };
}

// ---------------------------------------------------------------------------------------------------------
// ModelSet on the starter model (UNet + motion + text encoder), crafted LoRA files for its shapes.

/** Weight views that count every read of tensor data: "no base weight read" is checked on these. */
function counting(w: WeightSet, counter: { reads: number }): WeightSet {
  const views = new Map<string, TensorView>();
  const get = (n: string): TensorView | undefined => {
    const v = w.get(n);
    if (!v) return undefined;
    let c = views.get(n);
    if (!c) {
      c = {
        ...v,
        readF32: () => (counter.reads++, v.readF32()),
        readRaw: () => (counter.reads++, v.readRaw()),
      };
      views.set(n, c);
    }
    return c;
  };
  return { names: () => w.names(), has: (n) => w.has(n), get };
}

/** A kohya LoRA on `mods` ([module, in, out, kernel]): rank r, alpha r/2; 3×3 kernels make it LoCon. */
function writeKohya(path: string, mods: Array<[string, number, number, number]>, r: number, seed: number): void {
  const tensors: TensorToWrite[] = [];
  mods.forEach(([m, inF, outF, k], i) => {
    const conv = k > 0;
    tensors.push({ name: `${m}.lora_down.weight`, dtype: 'F32', shape: conv ? [r, inF, k, k] : [r, inF], data: rand(r * inF * Math.max(1, k * k), seed + 2 * i, 0.3) });
    tensors.push({ name: `${m}.lora_up.weight`, dtype: 'F32', shape: conv ? [outF, r, 1, 1] : [outF, r], data: rand(outF * r, seed + 2 * i + 1, 0.3) });
    tensors.push({ name: `${m}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(r / 2) });
  });
  writeSafetensors(path, tensors);
}

describe('ModelSet: run-time switching on a loaded model (starter model)', () => {
  const dir = tmpDir();
  const styleA = join(dir, 'style-a.safetensors');
  const styleB = join(dir, 'style-b.safetensors');
  const locon = join(dir, 'locon-3x3.safetensors');
  const reads = { reads: 0 };
  let set: ModelSet;
  let plainSet: ModelSet | undefined;
  const shape = { batch: 1, frames: 2, latentHeight: 8, latentWidth: 8, tokens: 77 };
  const N = shape.batch * shape.frames;
  const sample = rand(N * 4 * 8 * 8, 5, 1);
  let context: Float32Array;

  const withCounting = (): ModelSource => {
    const s = starterSource();
    return { ...s, weights: { unet: counting(s.weights.unet, reads), motion: counting(s.weights.motion, reads), vae: s.weights.vae, text_encoder: counting(s.weights.text_encoder, reads) } };
  };

  beforeAll(async () => {
    const tb = 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0';
    const up = 'lora_unet_up_blocks_2_attentions_0';
    writeKohya(styleA, [
      [`${tb}_attn1_to_q`, 64, 64, 0],
      [`${tb}_attn2_to_k`, 64, 64, 0],
      [`${tb}_ff_net_0_proj`, 64, 512, 0],
      [`${up}_proj_in`, 64, 64, 1],
      ['lora_te_text_model_encoder_layers_0_self_attn_v_proj', 64, 64, 0],
    ], 4, 100);
    writeKohya(styleB, [[`${up}_transformer_blocks_0_attn1_to_out_0`, 64, 64, 0], [`${tb}_ff_net_2`, 256, 64, 0]], 6, 200);
    writeKohya(locon, [['lora_unet_down_blocks_1_resnets_0_conv1', 32, 64, 3]], 2, 300);
    set = new ModelSet(withCounting(), { cacheRoot: join(dir, 'cache'), providers: ['cpu'], loraRank: 8 });
    context = Float32Array.from({ length: N * 77 * 64 }, (_, i) => Math.sin(i * 0.37));
  });
  afterAll(async () => {
    await set?.dispose();
    await plainSet?.dispose();
  });

  const unet = (s: ModelSet, t = 500): Promise<Float32Array> => s.unet(sample, t, context, shape);

  /** The merged path done independently: the stack merged into the weights, a plain graph, its own session. */
  async function mergedReference(loras: LoraSpec[], timesteps: number[], quant: 'float' | 'int8' = 'float'): Promise<Float32Array[]> {
    const st = starterSource();
    const applied = applyLoraStack({ unet: st.weights.unet, text_encoder: st.weights.text_encoder }, loras.map((l) => ({ file: l.path, weight: l.weight })));
    const g = buildUNetGraph(applied.unet!, st.configs.unet, { batch: shape.batch, latentHeight: 8, latentWidth: 8, contextLength: 77, motion: { w: st.weights.motion, cfg: st.configs.motion, frames: shape.frames, groupnorm: 'per_frame' }, quant });
    const s = await sessionOf(g);
    try {
      const out: Float32Array[] = [];
      for (const t of timesteps) {
        const o = await s.run({ sample: f32Tensor(sample, [N, 4, 8, 8]), timestep: f32Tensor(Float32Array.of(t), [1]), encoder_hidden_states: f32Tensor(context, [N, 77, 64]) });
        out.push(o.noise_pred.data as Float32Array);
      }
      return out;
    } finally {
      await s.dispose();
    }
  }

  it('(b)(c) switches stacks and weights by feeds only: no new session, no base weight read; weight 0 / empty == plain', async () => {
    const ids = Array.from({ length: 77 }, (_, i) => (i === 0 ? 49406 : i < 5 ? 320 + i : 49407));
    const plain = await unet(set);
    const tePlain = await set.encodeText(ids, 1);
    const opened = set.stats.sessionsCreated;
    const readsAfterLoad = reads.reads;
    expect(opened).toBe(2);
    expect(readsAfterLoad).toBeGreaterThan(0); // loading did read the base weights (the counter works)

    const sA = set.setLoras([{ path: styleA, weight: 0.8 }]);
    expect(sA.paths).toEqual({ unet: 'slots', text_encoder: 'slots' });
    expect(sA.message).toMatch(/UNet: 4 layers switched at run time \(rank 4\/8, no recompile\)/);
    expect(sA.reports[0].message).toBe('applied 15/15 keys');
    const a = await unet(set);
    expect(maxAbsDiff(a, plain)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(await set.encodeText(ids, 1), tePlain)).toBeGreaterThan(1e-4);

    const sAB = set.setLoras([{ path: styleA, weight: -0.5 }, { path: styleB, weight: 1.2 }]);
    expect(sAB.paths.unet).toBe('slots');
    const ab = await unet(set);
    expect(maxAbsDiff(ab, a)).toBeGreaterThan(1e-3);

    // (c) weight 0 and the empty stack are the plain model, bit for bit (same session, zero feeds)
    const same = (x: Float32Array, y: Float32Array): boolean => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    expect(set.setLoras([{ path: styleA, weight: 0 }]).paths).toEqual({ unet: 'none', text_encoder: 'none' });
    expect(same(await unet(set), plain)).toBe(true);
    set.setLoras([]);
    expect(same(await unet(set), plain)).toBe(true);
    expect(same(await set.encodeText(ids, 1), tePlain)).toBe(true);
    // back to A: the same result as before the switches
    set.setLoras([{ path: styleA, weight: 0.8 }]);
    expect(same(await unet(set), a)).toBe(true);

    expect(set.stats.sessionsCreated).toBe(opened);
    expect(set.stats.loraSwitches).toBe(5);
    expect(reads.reads).toBe(readsAfterLoad);
    set.setLoras([]);
  });

  it('(a) on UNet + motion: the slot path equals the stack merged into the weights', async () => {
    const stack = [{ path: styleA, weight: -0.5 }, { path: styleB, weight: 1.2 }];
    expect(set.setLoras(stack).paths.unet).toBe('slots');
    const ref = await mergedReference(stack, [999, 259]);
    for (const [i, t] of [999, 259].entries()) {
      const c = compareArrays('starter', `slots vs merged t${t}`, await unet(set, t), ref[i]);
      expect(c.pass, `${c.what} max_abs=${c.maxAbs}`).toBe(true);
    }
    // a set without slots (loraRank 0) takes everything through the merged overlay path: same result
    plainSet = new ModelSet(starterSource(stack), { cacheRoot: join(dir, 'cache-merged'), providers: ['cpu'], loraRank: 0 });
    expect(plainSet.loraSwitch.paths.unet).toBe('merged');
    const c = compareArrays('starter', 'overlay-merged vs merged', await unet(plainSet, 999), ref[0]);
    expect(c.pass, `max_abs=${c.maxAbs}`).toBe(true);
  });

  it('int8 Linear plan: a merged stack is quantised in its overlay; slots add their branch to int8 products', async () => {
    const stack = [{ path: styleA, weight: -0.5 }, { path: styleB, weight: 1.2 }];
    const [exact] = await mergedReference(stack, [999]);
    const [q8] = await mergedReference(stack, [999], 'int8');
    // The overlay holds the merged values quantised as the compiler would quantise them in the weights: the same
    // graph up to a rounding flip where the GEMM merge and the JS merge differ in the last bit.
    const merged = new ModelSet(starterSource(stack), { cacheRoot: join(dir, 'cache-int8-merged'), providers: ['cpu'], loraRank: 0, quant: 'int8' });
    const slotted = new ModelSet(starterSource(stack), { cacheRoot: join(dir, 'cache-int8-slots'), providers: ['cpu'], loraRank: 8, quant: 'int8' });
    try {
      expect(merged.loraSwitch.paths.unet).toBe('merged');
      expect(slotted.loraSwitch.paths.unet).toBe('slots');
      const viaOverlay = compareArrays('starter', 'int8 overlay vs int8 merged', await unet(merged, 999), q8, { maxRelL2: 1e-3 });
      expect(viaOverlay.pass, `rel_l2=${viaOverlay.relL2}`).toBe(true);
      // Slots: fp32 low-rank branch beside the int8 base product, not (W + ΔW) quantised: near, not equal.
      const viaSlots = compareArrays('starter', 'int8 slots vs exact merged', await unet(slotted, 999), exact, { maxRelL2: INT8_MAX_REL_L2 });
      expect(viaSlots.pass, `rel_l2=${viaSlots.relL2}`).toBe(true);
      expect(compareArrays('starter', 'int8 vs exact', q8, exact).pass).toBe(false); // the int8 plan really ran
    } finally {
      await merged.dispose();
      await slotted.dispose();
    }
  });

  it('sends a 3×3 LoCon to a merged overlay keyed by that part only; slotted LoRAs keep switching by feeds', async () => {
    const opened = set.stats.sessionsCreated;
    const readsBefore = reads.reads;
    const sw = set.setLoras([{ path: styleA, weight: 0.8 }, { path: locon, weight: 0.6 }]);
    expect(sw.paths.unet).toBe('slots+merged');
    expect(sw.message).toMatch(/1 layers merged \(overlay of only the touched tensors, one new session\) — locon-3x3\.safetensors: layers without a run-time slot/);
    const m1 = await unet(set);
    expect(set.stats.sessionsCreated).toBe(opened + 1);
    expect(set.compiled.some((n) => /^unet_b1_f2_8x8_t77_lora-[0-9a-f]{16}$/.test(n))).toBe(true);
    expect(reads.reads - readsBefore).toBe(1); // only the one touched base tensor was read
    // the overlay sits in the base entry, beside the untouched base weights file
    const mergedKey = set.pool.resident().find((id) => id.shape.component === 'unet' && id.mergedKey)?.mergedKey;
    expect(mergedKey).toMatch(/^[0-9a-f]{16}$/);
    const entries = readdirSync(join(dir, 'cache')).filter((d) => existsSync(join(dir, 'cache', d, `lora-${mergedKey}.bin`)));
    expect(entries.length).toBe(1);
    // changing only the slotted LoRA's weight keeps the merged session
    const stack = [{ path: styleA, weight: 0.3 }, { path: locon, weight: 0.6 }];
    set.setLoras(stack);
    const m2 = await unet(set);
    expect(set.stats.sessionsCreated).toBe(opened + 1);
    expect(maxAbsDiff(m1, m2)).toBeGreaterThan(1e-4);
    const [ref] = await mergedReference(stack, [500]);
    const c = compareArrays('starter', 'slots+overlay vs merged', m2, ref);
    expect(c.pass, `max_abs=${c.maxAbs}`).toBe(true);
    // dropping the LoCon returns to the base session (no new one)
    set.setLoras([{ path: styleA, weight: 0.3 }]);
    await unet(set);
    expect(set.stats.sessionsCreated).toBe(opened + 1);
    set.setLoras([]);
  });

  it('refuses a missing LoRA file with FILE_NOT_FOUND and keeps the current stack', () => {
    set.setLoras([{ path: styleA, weight: 0.8 }]);
    let code: string | undefined;
    try {
      set.setLoras([{ path: styleA, weight: 0.8 }, { path: join(dir, 'gone.safetensors'), weight: 1 }]);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('FILE_NOT_FOUND');
    expect(set.loraReports.map((r) => r.file)).toEqual([styleA]);
    set.setLoras([]);
  });

  it('(d) generations before and after a switch are reproducible', async () => {
    const tokenizer = ClipTokenizer.load();
    const req: TextToVideoRequest = { prompt: 'a red fox', negativePrompt: '', seed: 7, steps: 2, guidance: 1.5, frames: 2, width: 64, height: 64, clipSkip: 1, weighting: 'a1111', scheduler: DEFAULT_PARAMS.scheduler };
    const gen = async (loras: LoraSpec[]): Promise<Float32Array> => {
      set.setLoras(loras);
      return (await textToVideo(set.models(), req, { tokenizer })).frames;
    };
    const opened = set.stats.sessionsCreated;
    const a1 = await gen([{ path: styleA, weight: 0.8 }]);
    const b = await gen([{ path: styleB, weight: 1 }]);
    const a2 = await gen([{ path: styleA, weight: 0.8 }]);
    const p = await gen([]);
    expect(Buffer.from(a1.buffer).equals(Buffer.from(a2.buffer))).toBe(true);
    expect(maxAbsDiff(a1, b)).toBeGreaterThan(0);
    expect(maxAbsDiff(a1, p)).toBeGreaterThan(0);
    // shapes of this request (CFG batch 2, 8×8 latents, VAE) open once; switches open nothing
    const afterFirst = set.stats.sessionsCreated;
    await gen([{ path: styleB, weight: 0.4 }]);
    expect(set.stats.sessionsCreated).toBe(afterFirst);
    expect(afterFirst - opened).toBeLessThanOrEqual(2);
  });
});
