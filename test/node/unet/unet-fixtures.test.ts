import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMotionConfig, parseUNetConfig, type MotionGroupNorm } from '../../../src/main/compiler/families/configs';
import { sinusoidalTable } from '../../../src/main/compiler/families/motion';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { readNpyF32 } from '../../../src/main/compiler/io/npy';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import { compareArrays, formatComparison } from '../../../src/main/verify/compare';
import { handlerFor } from '../../../src/main/verify/registry';
import { CPU_FP32, type Comparison } from '../../../src/main/verify/types';
import { foldFrames, unfoldFrames } from '../../../src/main/verify/kinds/unet-motion';
import { tableWeights } from '../../../src/main/verify/run-graph';
import { readJson } from '../../../src/main/verify/kinds/unet2d';
import { StudioError } from '../../../src/shared/errors';
import { tensor, type T } from './naive';
import { naiveUNet } from './naive-unet';

const REF = join(__dirname, '../../fixtures/reference');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'unet-fx-'));
  dirs.push(d);
  return d;
};

async function verifyCase(folder: string): Promise<Comparison[]> {
  const dir = join(REF, folder);
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>;
  const handler = handlerFor(String(files.kind));
  if (!handler) throw new Error(`no handler for ${String(files.kind)}`);
  const got: Comparison[] = [];
  await handler.run({ dir, name: folder, files, workDir: scratch(), target: CPU_FP32, report: (c) => got.push(c) });
  return got;
}

const unetWeights = () => tableWeights(openSafetensors(join(REF, 'unet2d/weights.safetensors')));
const unetCfg = () => parseUNetConfig(readJson(join(REF, 'unet2d/config.json')));
const motionWeights = () => tableWeights(openSafetensors(join(REF, 'unet_motion/motion_adapter.safetensors')));
const motionCfg = () => parseMotionConfig(readJson(join(REF, 'unet_motion/motion_adapter_config.json')));

describe('verify kinds on the reference fixtures', () => {
  it('unet2d: diffusers and LDM layouts, every timestep', async () => {
    const got = await verifyCase('unet2d');
    for (const c of got) expect(c.pass, formatComparison(c)).toBe(true);
    expect(got.map((c) => c.what).sort()).toEqual(['diffusers noise_pred_t259', 'diffusers noise_pred_t999', 'ldm noise_pred_t259', 'ldm noise_pred_t999']);
  });

  // unet_motion's files.json also names the LDM single file of its UNet (`unet_weights`); the per-frame case does not.
  for (const [folder, mode, layouts] of [
    ['unet_motion', 'across_frames', ['diffusers+adapter', 'diffusers+animatediff', 'ldm+animatediff']],
    ['unet_motion_per_frame', 'per_frame', ['diffusers+adapter', 'diffusers+animatediff']],
  ] as const) {
    it(`${folder}: ${mode}, layouts ${layouts.join(', ')}`, async () => {
      const got = await verifyCase(folder);
      for (const c of got) expect(c.pass, formatComparison(c)).toBe(true);
      expect(got.map((c) => c.what).sort()).toEqual(layouts.flatMap((l) => [999, 259].map((t) => `${l} ${mode} noise_pred_t${t}`)).sort());
    });
  }

  it('a case in any folder is judged by its files.json: claiming the wrong GroupNorm mode fails by ~0.19', async () => {
    const src = join(REF, 'unet_motion_per_frame');
    const files = JSON.parse(readFileSync(join(src, 'files.json'), 'utf8')) as { weights: Record<string, string>; groupnorm: string };
    const dir = join(scratch(), 'renamed_case');
    mkdirSync(dir);
    for (const f of ['sample.npy', 'encoder_hidden_states_repeated.npy', 'noise_pred_t999.npy', 'noise_pred_t259.npy']) symlinkSync(join(src, f), join(dir, f));
    files.weights = Object.fromEntries(Object.entries(files.weights).map(([k, v]) => [k, resolve(src, v)]));
    files.groupnorm = 'across_frames';
    writeFileSync(join(dir, 'files.json'), JSON.stringify(files));
    const got: Comparison[] = [];
    await handlerFor('unet_motion')!.run({ dir, name: 'renamed_case', files: files as unknown as Record<string, unknown>, workDir: scratch(), target: CPU_FP32, report: (c) => got.push(c) });
    expect(got.length).toBe(4);
    for (const c of got) {
      expect(c.pass).toBe(false);
      expect(c.maxAbs).toBeGreaterThan(0.1);
    }
  });
});

describe('module outputs match the reference hooks (intermediates_t999)', () => {
  for (const [folder, mode] of [['unet2d', undefined], ['unet_motion', 'across_frames'], ['unet_motion_per_frame', 'per_frame']] as const) {
    it(`${folder}`, async () => {
      const dir = join(REF, folder);
      const motion = mode ? { w: motionWeights(), cfg: motionCfg(), frames: 4, groupnorm: mode as MotionGroupNorm } : undefined;
      const sample = mode ? foldFrames(readNpyF32(join(dir, 'sample.npy'))) : readNpyF32(join(dir, 'sample.npy'));
      const text = readNpyF32(join(dir, mode ? 'encoder_hidden_states_repeated.npy' : 'encoder_hidden_states.npy'));
      const graph = buildUNetGraph(unetWeights(), unetCfg(), { batch: 2, latentHeight: 8, latentWidth: 8, motion, taps: true });
      expect(graph.metadata.motion_groupnorm).toBe(mode);
      const { modelPath } = emitModel(graph, { dir: scratch(), modelFile: 'taps.onnx' });
      const s = await createSession(modelPath);
      const out = await s.run({ sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(999), [1]), encoder_hidden_states: f32Tensor(text.data, text.shape) });
      await s.dispose();
      const names = readdirSync(join(dir, 'intermediates_t999')).map((f) => f.replace(/\.npy$/, ''));
      expect(names.length).toBeGreaterThan(mode ? 12 : 8);
      for (const name of names) {
        const ref = readNpyF32(join(dir, 'intermediates_t999', `${name}.npy`));
        const got = out[name];
        expect(got, name).toBeDefined();
        // time_proj / time_embedding are per row in diffusers and shared (one row) in our graph.
        const cmp = compareArrays(folder, name, got.data as Float32Array, ref.data.subarray(0, got.data.length));
        expect(cmp.pass, formatComparison(cmp)).toBe(true);
        if (got.data.length < ref.data.length) {
          const row = got.data.length;
          for (let r = row; r < ref.data.length; r += row) expect(Array.from(ref.data.subarray(r, r + row))).toEqual(Array.from(ref.data.subarray(0, row)));
        }
      }
    });
  }
});

describe('fp16 graph', () => {
  it('runs on the CPU provider and stays within fp16 rounding of the reference (motion, per_frame)', async () => {
    const dir = join(REF, 'unet_motion_per_frame');
    const sample = foldFrames(readNpyF32(join(dir, 'sample.npy')));
    const text = readNpyF32(join(dir, 'encoder_hidden_states_repeated.npy'));
    const graph = buildUNetGraph(unetWeights(), unetCfg(), {
      batch: 2,
      latentHeight: 8,
      latentWidth: 8,
      floatType: 'float16',
      motion: { w: motionWeights(), cfg: motionCfg(), frames: 4, groupnorm: 'per_frame' },
    });
    expect(graph.inputs.find((i) => i.name === 'timestep')?.elemType).toBe('float32');
    expect(graph.inputs.find((i) => i.name === 'sample')?.elemType).toBe('float16');
    const { modelPath } = emitModel(graph, { dir: scratch(), modelFile: 'fp16.onnx' });
    const s = await createSession(modelPath);
    const out = await s.run({ sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(259), [1]), encoder_hidden_states: f32Tensor(text.data, text.shape) });
    await s.dispose();
    const ref = readNpyF32(join(dir, 'noise_pred_t259.npy')).data;
    const cmp = compareArrays('fp16', 'noise_pred_t259', unfoldFrames(out.noise_pred.data as Float32Array, sample.shape, 4), ref, { atol: 1e-2, rtol: 1e-2 });
    expect(cmp.pass, formatComparison(cmp)).toBe(true);
    expect(cmp.maxAbs).toBeGreaterThan(0); // really ran in half precision
  });
});

describe('the naive float64 reference used by unet-naive.test.ts reproduces diffusers', () => {
  const lookupOf = (file: string) => {
    const t = openSafetensors(file);
    return (name: string): T => {
      const v = t.get(name);
      if (!v) throw new Error(`no ${name}`);
      return tensor(v.shape, v.readF32());
    };
  };
  it('unet2d t259 and unet_motion_per_frame t999', () => {
    const W = lookupOf(join(REF, 'unet2d/weights.safetensors'));
    const s2 = readNpyF32(join(REF, 'unet2d/sample.npy'));
    const c2 = readNpyF32(join(REF, 'unet2d/encoder_hidden_states.npy'));
    const y2 = naiveUNet(W, unetCfg(), tensor(s2.shape, s2.data), 259, tensor(c2.shape, c2.data));
    const r2 = compareArrays('naive', 'unet2d t259', y2.data, readNpyF32(join(REF, 'unet2d/noise_pred_t259.npy')).data);
    expect(r2.pass, formatComparison(r2)).toBe(true);

    const dir = join(REF, 'unet_motion_per_frame');
    const sm = foldFrames(readNpyF32(join(dir, 'sample.npy')));
    const cm = readNpyF32(join(dir, 'encoder_hidden_states_repeated.npy'));
    const ym = naiveUNet(W, unetCfg(), tensor(sm.shape, sm.data), 999, tensor(cm.shape, cm.data), {
      W: lookupOf(join(REF, 'unet_motion/motion_adapter.safetensors')),
      cfg: motionCfg(),
      frames: 4,
      groupnorm: 'per_frame',
    });
    const rm = compareArrays('naive', 'motion per_frame t999', unfoldFrames(Float32Array.from(ym.data), sm.shape, 4), readNpyF32(join(dir, 'noise_pred_t999.npy')).data);
    expect(rm.pass, formatComparison(rm)).toBe(true);
  });
});

describe('positional table and graph metadata', () => {
  it('the computed sinusoidal table equals the pe buffers stored in the AnimateDiff file', () => {
    const t = openSafetensors(join(REF, 'unet_motion/motion_module_animatediff.safetensors'));
    const pes = t.names().filter((n) => n.endsWith('pos_encoder.pe'));
    expect(pes.length).toBeGreaterThan(0);
    for (const name of pes) {
      const v = t.get(name);
      if (!v) throw new Error(name);
      const [, len, dim] = v.shape;
      const ours = sinusoidalTable(len, dim);
      const cmp = compareArrays('pe', name, ours, v.readF32(), { atol: 1e-6, rtol: 0 });
      expect(cmp.pass, formatComparison(cmp)).toBe(true);
      // Rows do not depend on the table length: a 5-row table is the first 5 rows.
      expect(Array.from(sinusoidalTable(5, dim))).toEqual(Array.from(ours.subarray(0, 5 * dim)));
    }
  });

  it('states the motion GroupNorm mode and refuses impossible requests with actionable errors', () => {
    const base = { batch: 1, latentHeight: 8, latentWidth: 8 };
    const g = buildUNetGraph(unetWeights(), unetCfg(), { ...base, motion: { w: motionWeights(), cfg: motionCfg(), frames: 16, groupnorm: 'per_frame' } });
    expect(g.metadata.motion_groupnorm).toBe('per_frame');
    expect(g.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['sample', [16, 4, 8, 8]],
      ['timestep', [1]],
      ['encoder_hidden_states', [16, 77, 32]],
    ]);
    expect(g.outputs.map((o) => [o.name, o.shape])).toEqual([['noise_pred', [16, 4, 8, 8]]]);
    expect(buildUNetGraph(unetWeights(), unetCfg(), base).metadata.motion_groupnorm).toBeUndefined();

    const tooMany = (): unknown => buildUNetGraph(unetWeights(), unetCfg(), { ...base, motion: { w: motionWeights(), cfg: motionCfg(), frames: 33, groupnorm: 'per_frame' } });
    expect(tooMany).toThrow(StudioError);
    expect(tooMany).toThrow(/33 frames/);
    const noMid = { ...motionCfg(), use_motion_mid_block: false };
    expect(() => buildUNetGraph(unetWeights(), unetCfg(), { ...base, motion: { w: motionWeights(), cfg: noMid, frames: 4, groupnorm: 'per_frame' } })).toThrow(/temporal transformers/);
    const lcmDistilled = new MemoryWeights();
    const base2d = unetWeights();
    for (const name of base2d.names()) lcmDistilled.setView(base2d.get(name)!);
    lcmDistilled.set('time_embedding.cond_proj.weight', [128, 256], new Float32Array(128 * 256));
    expect(() => buildUNetGraph(lcmDistilled, unetCfg(), base)).toThrow(/does not use \(e\.g\. time_embedding\.cond_proj\.weight\)/);
    const wideText = { ...unetCfg(), cross_attention_dim: 768 };
    expect(() => buildUNetGraph(unetWeights(), wideText, base)).toThrow(/attn2\.to_k\.weight" has shape \[32, 32\], expected \[\?, 768\]/);
    const otherChannels = { ...motionCfg(), block_out_channels: [320, 640] };
    expect(() => buildUNetGraph(unetWeights(), unetCfg(), { ...base, motion: { w: motionWeights(), cfg: otherChannels, frames: 4, groupnorm: 'per_frame' } })).toThrow(/motion module is for UNet channels/);
  });
});
