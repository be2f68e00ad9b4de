import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { decodePng } from '../../../src/main/formats/png';
import { generate, releaseModels, type GenerateProgress } from '../../../src/main/engine/generate';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import type { PipelineModels, UNetCallShape } from '../../../src/main/engine/pipelines/pipeline-models';
import { textToVideo, type TextToVideoRequest } from '../../../src/main/engine/pipelines/text-to-video';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';

/** The starter model end to end at a small shape: 64×64 px (8×8 latents), 4 frames, 2 steps. */
const SMALL: GenerationParams = {
  ...DEFAULT_PARAMS,
  prompt: 'a lighthouse on a cliff, (stormy sea:1.2), waves',
  negativePrompt: 'blurry',
  width: 64,
  height: 64,
  frames: 4,
  steps: 2,
  seed: 7,
};

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pipeline-starter-'));
});
afterAll(async () => {
  await releaseModels();
  rmSync(root, { recursive: true, force: true });
});

function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

/** PipelineModels that count (and remember the shape of) every UNet call of the real sessions. */
function counting(models: PipelineModels): { models: PipelineModels; calls: UNetCallShape[] } {
  const calls: UNetCallShape[] = [];
  return {
    calls,
    models: {
      ...models,
      unet: (sample, t, context, shape) => {
        calls.push(shape);
        return models.unet(sample, t, context, shape);
      },
    },
  };
}

describe('generate() with the starter model', () => {
  it('compiles on first use, reports progress with a preview from step 1, and writes frames + params.json', async () => {
    const events: GenerateProgress[] = [];
    const out = join(root, 'a');
    const r = await generate({ params: SMALL, outDir: out, cacheRoot: join(root, 'cache') }, { onProgress: (e) => events.push(e) });
    expect(r.model.isStarter).toBe(true);
    expect(r.model.label).toMatch(/test model/i);
    expect(r.compiled.sort()).toEqual(['clip_text_s77', 'unet_b2_f4_8x8_t77', 'vae_decoder_8x8']);
    expect(events.some((e) => e.stage === 'compile' && e.compile?.phase === 'start')).toBe(true);

    const firstPreview = events.findIndex((e) => e.preview !== undefined);
    expect(events[firstPreview]).toMatchObject({ stage: 'denoise', step: 1, totalSteps: 2 });
    const denoise = events.filter((e) => e.stage === 'denoise');
    expect(denoise.map((e) => e.step)).toEqual([1, 2]);
    for (const e of denoise) {
      expect(e.preview!.frames).toHaveLength(4);
      expect([e.preview!.width, e.preview!.height]).toEqual([8, 8]);
      expect(Buffer.from(e.preview!.frames[0], 'base64').length).toBe(8 * 8 * 3);
      expect(e.elapsedMs).toBeGreaterThan(0);
    }

    const files = filesOf(out);
    expect([...files.keys()]).toEqual(['frame_0000.png', 'frame_0001.png', 'frame_0002.png', 'frame_0003.png', 'params.json']);
    expect(JSON.parse(files.get('params.json')!.toString('utf8'))).toEqual(SMALL);
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('is deterministic: same seed → byte-identical files, another seed → different frames', async () => {
    const a = join(root, 'det-a');
    const b = join(root, 'det-b');
    const c = join(root, 'det-c');
    await generate({ params: SMALL, outDir: a, cacheRoot: join(root, 'cache') });
    await releaseModels(); // a fresh model set (new sessions) must give the same bytes
    await generate({ params: SMALL, outDir: b, cacheRoot: join(root, 'cache') });
    await generate({ params: { ...SMALL, seed: 8 }, outDir: c, cacheRoot: join(root, 'cache') });
    const fa = filesOf(a);
    const fb = filesOf(b);
    const fc = filesOf(c);
    for (const [name, bytes] of fa) expect(bytes.equals(fb.get(name)!), name).toBe(true);
    for (let f = 0; f < 4; f++) {
      const name = `frame_000${f}.png`;
      expect(fa.get(name)!.equals(fc.get(name)!), name).toBe(false);
    }
  });

  it('reuses the compile cache: a second process-like run (models released) compiles nothing', async () => {
    await releaseModels();
    const events: GenerateProgress[] = [];
    const r = await generate({ params: { ...SMALL, seed: 9 }, outDir: join(root, 'reuse'), cacheRoot: join(root, 'cache') }, { onProgress: (e) => events.push(e) });
    expect(r.compiled).toEqual([]);
    const compiles = events.filter((e) => e.compile);
    expect(compiles.length).toBe(3);
    expect(compiles.every((e) => e.compile!.reused && e.compile!.phase === 'done')).toBe(true);
  });

  it('cancels within one UNet call and leaves no output folder behind', async () => {
    const controller = new AbortController();
    const events: GenerateProgress[] = [];
    const out = join(root, 'cancelled');
    const run = generate(
      { params: { ...SMALL, steps: 4 }, outDir: out, cacheRoot: join(root, 'cache') },
      {
        signal: controller.signal,
        onProgress: (e) => {
          events.push(e);
          if (e.stage === 'denoise' && e.step === 1) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(events.filter((e) => e.stage === 'denoise').map((e) => e.step)).toEqual([1]);
    expect(events.some((e) => e.stage === 'decode' || e.stage === 'write')).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp-') || n.startsWith('.deleting-'))).toEqual([]);
  });
});

describe('cancel during a first-use compile', () => {
  it('stops before the model runs and writes nothing', async () => {
    await releaseModels();
    const controller = new AbortController();
    const events: GenerateProgress[] = [];
    const out = join(root, 'cancel-compile');
    const run = generate(
      { params: { ...SMALL, seed: 21 }, outDir: out, cacheRoot: join(root, 'cache-cancel') },
      {
        signal: controller.signal,
        onProgress: (e) => {
          events.push(e);
          if (e.compile?.component === 'unet' && e.compile.phase === 'start') controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(events.some((e) => e.stage === 'denoise')).toBe(false);
    expect(existsSync(out)).toBe(false);
  });
});

describe('text-to-video pipeline on the starter model sessions', () => {
  const tokenizer = ClipTokenizer.load();
  const req: TextToVideoRequest = {
    prompt: SMALL.prompt,
    negativePrompt: SMALL.negativePrompt,
    seed: 3,
    steps: 2,
    guidance: 1.5,
    frames: 4,
    width: 64,
    height: 64,
    clipSkip: 1,
    weighting: 'a1111',
    scheduler: SMALL.scheduler,
  };
  let set: ModelSet;
  beforeAll(() => {
    set = new ModelSet(starterSource(), { cacheRoot: join(root, 'cache'), providers: ['cpu'] });
  });
  afterAll(async () => {
    await set.dispose();
  });

  it('runs one batched UNet call per step with CFG, and a single pass when guidance ≤ 1', async () => {
    const cfg = counting(set.models());
    await textToVideo(cfg.models, req, { tokenizer });
    expect(cfg.calls.map((s) => s.batch)).toEqual([2, 2]);

    const single = counting(set.models());
    const r = await textToVideo(single.models, { ...req, guidance: 1 }, { tokenizer });
    expect(single.calls.map((s) => s.batch)).toEqual([1, 1]);
    expect(r.frames.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('runs guidance as two batch-1 calls (uncond, then cond) when asked, with the batched call’s frames', async () => {
    const batched = counting(set.models());
    const a = await textToVideo(batched.models, req, { tokenizer });
    const separate = counting(set.models());
    const b = await textToVideo(separate.models, req, { tokenizer, guidanceCalls: 'separate' });
    expect(separate.calls.map((s) => s.batch)).toEqual([1, 1, 1, 1]);
    expect(batched.calls.map((s) => s.batch)).toEqual([2, 2]);
    // the same arithmetic row by row; only GEMM blocking over a different row count may round differently
    let maxAbs = 0;
    a.frames.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - b.frames[i]))));
    expect(maxAbs).toBeLessThan(1e-4);
    // and guidance really was applied: guidance 1 (cond only) gives other frames
    const plain = await textToVideo(set.models(), { ...req, guidance: 1 }, { tokenizer });
    expect(plain.frames.some((v, i) => Math.abs(v - b.frames[i]) > 1e-3)).toBe(true);
  });

  it('gives prompts over 75 tokens a 77·k context that the UNet accepts', async () => {
    const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(' ');
    expect(tokenizer.encode(long).length).toBeGreaterThan(75);
    const c = counting(set.models());
    const r = await textToVideo(c.models, { ...req, prompt: long }, { tokenizer });
    const tokens = c.calls[0].tokens;
    expect(tokens % 77).toBe(0);
    expect(tokens).toBeGreaterThanOrEqual(154);
    expect(c.calls.every((s) => s.tokens === tokens && s.batch === 2)).toBe(true);
    expect(r.frames.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('rejects sizes that are not multiples of the VAE factor with a clear message', async () => {
    await expect(textToVideo(set.models(), { ...req, width: 60 }, { tokenizer })).rejects.toThrow(/multiples of 8/);
  });
});

describe('generate() with a LoRA stack on the starter model', () => {
  /** A small kohya LoRA on two of the starter UNet's attention projections (rank 2, alpha 2). */
  function writeLora(path: string): void {
    const t = (name: string, shape: number[], seed: number) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return { name, dtype: 'F32' as const, shape, data: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.5) };
    };
    // [module, input width, output width]: a self-attention projection (64 channels) and a cross-attention one
    // (64-wide context).
    const mods: Array<[string, number, number]> = [
      ['down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q', 64, 64],
      ['up_blocks_2_attentions_0_transformer_blocks_0_attn2_to_v', 64, 64],
    ];
    const tensors = mods.flatMap(([m, width, out], k) => [
      t(`lora_unet_${m}.lora_down.weight`, [2, width], k),
      t(`lora_unet_${m}.lora_up.weight`, [out, 2], k + 10),
      { name: `lora_unet_${m}.alpha`, dtype: 'F32' as const, shape: [], data: Float32Array.of(2) },
    ]);
    writeSafetensors(path, tensors);
  }

  it('switches the stack at run time on the loaded model (no recompile), and weight 0 gives the plain model’s frames', async () => {
    const lora = join(root, 'tiny-lora.safetensors');
    writeLora(lora);
    const cacheRoot = join(root, 'cache');
    const plain = await generate({ params: SMALL, outDir: join(root, 'lora-none'), cacheRoot });
    const withLora = await generate({ params: { ...SMALL, loras: [{ path: lora, weight: 0.8 }] }, outDir: join(root, 'lora-08'), cacheRoot });
    expect(withLora.loraReports).toEqual([expect.stringMatching(/tiny-lora\.safetensors: applied \d+\/\d+ keys$/)]);
    expect(withLora.compiled).toEqual([]); // slot feeds into the open sessions (engine/lora/README.md)
    const zero = await generate({ params: { ...SMALL, lcmLora: { path: lora, weight: 0 } }, outDir: join(root, 'lora-0'), cacheRoot });
    expect(zero.compiled).toEqual([]);
    const px = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.png')).sort().map((n) => Buffer.from(decodePng(readFileSync(join(dir, n))).rgb));
    const [a, b, c] = [px(plain.outDir), px(withLora.outDir), px(zero.outDir)];
    expect(a.some((f, i) => !f.equals(b[i]))).toBe(true);
    a.forEach((f, i) => expect(f.equals(c[i]), `frame ${i}`).toBe(true));
  });

  it('tells the creator, per LoRA file, how much of it applied and what did not', async () => {
    const partial = join(root, 'partial-lora.safetensors');
    const t = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.01) });
    writeSafetensors(partial, [
      t('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k.lora_down.weight', [2, 64]),
      t('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_k.lora_up.weight', [64, 2]),
      // No such module in the starter UNet (it has 4 down blocks).
      t('lora_unet_down_blocks_7_attentions_0_transformer_blocks_0_attn1_to_k.lora_down.weight', [2, 64]),
      t('lora_unet_down_blocks_7_attentions_0_transformer_blocks_0_attn1_to_k.lora_up.weight', [64, 2]),
    ]);
    const notes: string[] = [];
    await generate(
      { params: { ...SMALL, loras: [{ path: partial, weight: 1 }] }, outDir: join(root, 'lora-partial'), cacheRoot: join(root, 'cache') },
      { onProgress: (e) => e.message && notes.push(e.message) },
    );
    const note = notes.find((m) => m.startsWith('partial-lora.safetensors:'));
    // Counted per tensor (lora_down and lora_up of each module).
    expect(note).toMatch(/applied 2\/4 keys; not applied \(2 keys\): lora_unet_down_blocks_7\S*: no such module in this model/);
  });
});
