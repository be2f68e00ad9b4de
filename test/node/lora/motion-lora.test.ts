import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { applyLoraStack } from '../../../src/main/engine/lora/stack';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource, type LoraSpec } from '../../../src/main/engine/models/model-source';
import { createSession, f32Tensor } from '../../../src/main/engine/runtime/session';
import { compareArrays } from '../../../src/main/verify/compare';
import { StudioError } from '../../../src/shared/errors';
import { maxAbsDiff, rand, removeTmpDirs, tmpDir, writeMotionLora } from './fixtures';

/**
 * MotionLoRAs in a loaded model (configurations the lora_motion fixture does not hold): an AnimateDiff-layout
 * motion LoRA for the starter model's motion modules, stacked with a spatial LoRA, switched and re-weighted by
 * feeds on the same sessions, equal to the stack merged into the weights.
 */
afterAll(() => removeTmpDirs());

function writeSpatial(path: string): void {
  const m = 'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q';
  writeSafetensors(path, [
    { name: `${m}.lora_down.weight`, dtype: 'F32', shape: [4, 64], data: rand(256, 7, 0.3) },
    { name: `${m}.lora_up.weight`, dtype: 'F32', shape: [64, 4], data: rand(256, 8, 0.3) },
    { name: `${m}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(2) },
  ]);
}

describe('MotionLoRA on a loaded ModelSet (starter model)', () => {
  const dir = tmpDir();
  const motion = join(dir, 'v2_lora_ZoomIn.safetensors');
  const spatial = join(dir, 'style.safetensors');
  let keys = 0;
  let set: ModelSet;
  const shape = { batch: 1, frames: 4, latentHeight: 8, latentWidth: 8, tokens: 77 };
  const N = shape.batch * shape.frames;
  const sample = rand(N * 4 * 8 * 8, 5, 1);
  const context = Float32Array.from({ length: N * 77 * 64 }, (_, i) => Math.sin(i * 0.37));
  const unet = (t = 500): Promise<Float32Array> => set.unet(sample, t, context, shape);

  beforeAll(() => {
    keys = writeMotionLora(motion, 4, 900);
    writeSpatial(spatial);
    set = new ModelSet(starterSource(), { cacheRoot: join(dir, 'cache'), providers: ['cpu'], loraRank: 8 });
  });
  afterAll(async () => set?.dispose());

  async function mergedReference(loras: LoraSpec[], t: number): Promise<Float32Array> {
    const st = starterSource();
    const applied = applyLoraStack({ unet: st.weights.unet, text_encoder: st.weights.text_encoder, motion: st.weights.motion }, loras.map((l) => ({ file: l.path, weight: l.weight })));
    const g = buildUNetGraph(applied.unet!, st.configs.unet, { batch: 1, latentHeight: 8, latentWidth: 8, contextLength: 77, motion: { w: applied.motion!, cfg: st.configs.motion, frames: 4, groupnorm: 'per_frame' } });
    const s = await createSession(emitModel(g, { dir: tmpDir(), modelFile: 'm.onnx' }).modelPath);
    try {
      const o = await s.run({ sample: f32Tensor(sample, [N, 4, 8, 8]), timestep: f32Tensor(Float32Array.of(t), [1]), encoder_hidden_states: f32Tensor(context, [N, 77, 64]) });
      return o.noise_pred.data as Float32Array;
    } finally {
      await s.dispose();
    }
  }

  it('stacks with a spatial LoRA on slots, equals the merged stack, and re-weights by feeds with no new session', async () => {
    const plain = await unet();
    const opened = set.stats.sessionsCreated;

    const stack = [{ path: motion, weight: 0.8 }, { path: spatial, weight: 0.5 }];
    const sw = set.setLoras(stack);
    expect(sw.paths.unet).toBe('slots');
    expect(sw.reports[0].message).toBe(`applied ${keys}/${keys} keys`);
    expect(sw.message).toMatch(/motion modules: \d+ layers switched at run time \(rank 4\/8, no recompile\)/);
    const stacked = await unet();
    expect(maxAbsDiff(stacked, plain)).toBeGreaterThan(1e-3);
    const ref = await mergedReference(stack, 500);
    const c = compareArrays('starter', 'motion+spatial slots vs merged', stacked, ref);
    expect(c.pass, `max_abs=${c.maxAbs}`).toBe(true);

    // weight change of the motion LoRA alone: new feeds, same session, a different (and again exact) result
    set.setLoras([{ path: motion, weight: -0.4 }, { path: spatial, weight: 0.5 }]);
    const reweighted = await unet();
    expect(maxAbsDiff(reweighted, stacked)).toBeGreaterThan(1e-3);
    const c2 = compareArrays('starter', 'reweighted vs merged', reweighted, await mergedReference([{ path: motion, weight: -0.4 }, { path: spatial, weight: 0.5 }], 500));
    expect(c2.pass, `max_abs=${c2.maxAbs}`).toBe(true);

    // weight 0 is the plain model, bit for bit
    set.setLoras([{ path: motion, weight: 0 }]);
    expect(Buffer.from((await unet()).buffer).equals(Buffer.from(plain.buffer))).toBe(true);
    expect(set.stats.sessionsCreated).toBe(opened);
  });

  it('refuses a motion LoRA stack the slots cannot carry with LORA_INCOMPATIBLE, and keeps the current stack', () => {
    set.setLoras([]);
    let err: unknown;
    try {
      set.setLoras([{ path: motion, weight: 1 }, { path: motion, weight: 0.5 }, { path: motion, weight: 1 }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('LORA_INCOMPATIBLE');
    expect((err as StudioError).message).toMatch(/motion LoRA stack cannot be switched in at run time: .*total rank above the compiled 8/);
    expect(set.loraSwitch.paths.unet).toBe('none');
  });
});
