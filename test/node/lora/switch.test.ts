import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { GraphBuilder } from '../../../src/main/compiler/graph/builder';
import { emitGraphFile, emitModel, emitWeights } from '../../../src/main/compiler/graph/emit';
import { conv2d, linear } from '../../../src/main/compiler/graph/layers';
import { readNpyF32 } from '../../../src/main/compiler/io/npy';
import { GemmMerger } from '../../../src/main/engine/lora/gemm-merger';
import { chooseSlotMode, conv1x1WithLoraSlot, linearWithLoraSlot, type LoraSlot, type SlotMode } from '../../../src/main/compiler/graph/lora-slots';
import { lowRankFeeds } from '../../../src/main/engine/lora/lowrank-feeds';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { LoraSwitcher } from '../../../src/main/engine/lora/switcher';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import { compareArrays } from '../../../src/main/verify/compare';
import { openBase, rand, REF, tmpDir, removeTmpDirs } from './fixtures';

/**
 * Both run-time mechanisms on the fixture model, end to end through onnxruntime:
 * (i) overlay weights file + small graph over the unchanged base weights file → the reference noise_pred;
 * (ii) low-rank slot inputs → the same outputs as the merged weights, with no new session per switch.
 */
const base = openBase();
const gemm = new GemmMerger();
afterAll(async () => {
  base.close();
  removeTmpDirs();
  await gemm.dispose();
});

const STACK = join(REF, 'lora_stack');
const stackFiles = [
  { file: join(REF, 'lora_kohya_alphas/lora_kohya_alphas.safetensors'), weight: 0.7 },
  { file: join(REF, 'lora_loha/lora_loha.safetensors'), weight: 0.4 },
];

describe('merged overlay (mechanism i)', () => {
  it('reproduces the lora_stack reference without rewriting the base weights file', async () => {
    const cfg = parseUNetConfig(JSON.parse(readFileSync(join(REF, 'unet2d/config.json'), 'utf8')) as Record<string, unknown>);
    const sample = readNpyF32(join(STACK, 'sample.npy'));
    const context = readNpyF32(join(STACK, 'encoder_hidden_states.npy'));
    const graph = buildUNetGraph(base.unet, cfg, { batch: sample.shape[0], latentHeight: sample.shape[2], latentWidth: sample.shape[3], contextLength: context.shape[1] });
    const dir = tmpDir();
    const baseIndex = emitWeights([graph], { dir, weightsFile: 'unet.bin' });
    const basePath = emitGraphFile(graph, baseIndex, { dir, modelFile: 'unet.onnx' });
    const baseBytes = readFileSync(join(dir, 'unet.bin'));

    const switcher = new LoraSwitcher(base, { unet: { graph, baseIndex, dir, modelFile: 'unet.onnx' } }, gemm);
    const prepared = await switcher.prepare(stackFiles);
    expect(prepared.models.unet).not.toBe(basePath);
    expect(prepared.timing.overlay.unet?.tensors).toBe(53);
    expect(readFileSync(join(dir, 'unet.bin')).equals(baseBytes)).toBe(true);
    expect(await switcher.prepare(stackFiles)).toBe(prepared); // cached by stack identity

    const session = await createSession(prepared.models.unet!);
    try {
      for (const t of [999, 259]) {
        const out = await session.run({ sample: f32Tensor(sample.data, sample.shape), timestep: f32Tensor(Float32Array.of(t), [1]), encoder_hidden_states: f32Tensor(context.data, context.shape) });
        const c = compareArrays('lora_stack', `overlay noise_pred_t${t}`, out.noise_pred.data as Float32Array, readNpyF32(join(STACK, `noise_pred_lora_t${t}.npy`)).data);
        expect(c.pass, `${c.what} max_abs=${c.maxAbs}`).toBe(true);
      }
    } finally {
      await session.dispose();
    }
  });
});

describe('low-rank slots (mechanism ii)', () => {
  const LIN = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q';
  const PROJ = 'down_blocks.0.attentions.0.proj_in';
  const slots: LoraSlot[] = [
    { module: LIN, kind: 'linear', inFeatures: 32, outFeatures: 32 },
    { module: PROJ, kind: 'conv1x1', inFeatures: 32, outFeatures: 32 },
  ];
  const R = 16;

  it.each(['weight', 'activation'] as SlotMode[])('%s mode: switches stacks by feeding tensors to one session, matching the merged weights', async (mode) => {
    const g = new GraphBuilder('slots');
    const x = g.input('x', 'float32', [2, 5, 32]);
    const img = g.input('img', 'float32', [1, 32, 4, 4]);
    g.output(linearWithLoraSlot(g, base.unet, slots[0], x, R, mode), 'y', 'float32', [2, 5, 32]);
    g.output(conv1x1WithLoraSlot(g, base.unet, slots[1], img, R, mode), 'z', 'float32', [1, 32, 4, 4]);
    const { modelPath } = emitModel(g.build(), { dir: tmpDir(), modelFile: 'slots.onnx' });
    const session = await createSession(modelPath);
    const xs = rand(2 * 5 * 32, 9, 1);
    const imgs = rand(32 * 16, 10, 1);

    const reference = async (w: typeof base.unet): Promise<{ y: Float32Array; z: Float32Array }> => {
      const h = new GraphBuilder('ref');
      const hx = h.input('x', 'float32', [2, 5, 32]);
      const hi = h.input('img', 'float32', [1, 32, 4, 4]);
      h.output(linear(h, w, LIN, hx), 'y', 'float32', [2, 5, 32]);
      h.output(conv2d(h, w, PROJ, hi), 'z', 'float32', [1, 32, 4, 4]);
      const p = emitModel(h.build(), { dir: tmpDir(), modelFile: 'ref.onnx' });
      const s = await createSession(p.modelPath);
      const o = await s.run({ x: f32Tensor(xs, [2, 5, 32]), img: f32Tensor(imgs, [1, 32, 4, 4]) });
      await s.dispose();
      return { y: o.y.data as Float32Array, z: o.z.data as Float32Array };
    };

    try {
      // two stacks on the same session: kohya alone at 0.8, then kohya at −0.5 + the PEFT LoRA at 0.3
      const stacks = [
        [{ file: stackFiles[0].file, weight: 0.8 }],
        [
          { file: stackFiles[0].file, weight: -0.5 },
          { file: join(REF, 'lora/lora_diffusers.safetensors'), weight: 0.3 },
        ],
      ];
      for (const stack of stacks) {
        const applied = applyLoraStack(base, stack);
        const { feeds, usedRank } = lowRankFeeds(applied, slots, R);
        expect(usedRank).toBeGreaterThan(0);
        const o = await session.run({ x: f32Tensor(xs, [2, 5, 32]), img: f32Tensor(imgs, [1, 32, 4, 4]), ...feeds });
        const ref = await reference(applied.unet!);
        expect(compareArrays('slots', 'linear', o.y.data as Float32Array, ref.y).pass).toBe(true);
        expect(compareArrays('slots', 'conv1x1', o.z.data as Float32Array, ref.z).pass).toBe(true);
      }
    } finally {
      await session.dispose();
    }
  });

  it('sends LoHa modules, 3×3 convs and rank overflow to the merged path', () => {
    const loha = applyLoraStack(base, [{ file: stackFiles[1].file, weight: 1 }]);
    expect(lowRankFeeds(loha, slots, R).fallback.map((f) => f.why)).toContain('loha is not low-rank');
    const kohya = applyLoraStack(base, [{ file: stackFiles[0].file, weight: 1 }]);
    const small = lowRankFeeds(kohya, slots, 2);
    expect(small.fallback.some((f) => f.key === `${PROJ}.weight` && /exceeds the compiled maximum 2/.test(f.why))).toBe(true);
    expect(small.fallback.some((f) => f.why === 'no run-time slot for this layer')).toBe(true);
  });
});

describe('slot form choice', () => {
  it('picks the weight form for many tokens and the activation form for few (SD1.5 512² levels)', () => {
    expect(chooseSlotMode(4096, 320, 320, 32)).toBe('weight'); // 64×64 level, one sample
    expect(chooseSlotMode(256, 1280, 1280, 32)).toBe('activation'); // 16×16 level, one sample
    expect(chooseSlotMode(16 * 256, 1280, 1280, 32)).toBe('weight'); // same level, 8 frames × CFG
    expect(chooseSlotMode(77, 768, 1280, 128)).toBe('activation'); // cross-attention k/v on the prompt
  });
});
