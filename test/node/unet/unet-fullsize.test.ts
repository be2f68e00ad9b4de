import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMotionConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { attentionPlanFor, DEFAULT_MAX_SCORE_BYTES } from '../../../src/main/compiler/graph/attention-plan';
import { MemoryWeights } from '../../../src/main/compiler/io/tensor';

/**
 * The real SD1.5 UNet + AnimateLCM motion adapter, built from the key/shape manifests alone (no weight is
 * read while building): the graph must use every stored weight of both models, and nothing else.
 */

interface Manifest {
  config: Record<string, unknown>;
  diffusers: Record<string, { shape: number[] }>;
}

const load = (f: string): Manifest => JSON.parse(readFileSync(join(__dirname, '../../fixtures/manifests', f), 'utf8')) as Manifest;

function shapeOnly(m: Manifest, skip: RegExp): MemoryWeights {
  const w = new MemoryWeights();
  for (const [name, { shape }] of Object.entries(m.diffusers)) {
    if (skip.test(name)) continue;
    w.set(name, shape, () => {
      throw new Error(`weight ${name} read during graph building`);
    });
  }
  return w;
}

describe('full-size SD1.5 + AnimateLCM graph from the manifests', () => {
  it('uses exactly the manifest weights (the sinusoidal pe buffers are recomputed, not read)', () => {
    const unetM = load('sd15_unet.json');
    const motionM = load('motion_adapter_v2_animatelcm.json');
    const unet = shapeOnly(unetM, /^$/);
    const motion = shapeOnly(motionM, /\.pos_embed\.pe$/);
    const graph = buildUNetGraph(unet, parseUNetConfig(unetM.config), {
      batch: 2,
      latentHeight: 64,
      latentWidth: 64,
      motion: { w: motion, cfg: parseMotionConfig(motionM.config), frames: 16, groupnorm: 'per_frame' },
    });
    const used = new Set(graph.initializers.flatMap((i) => (i.source.kind === 'weight' ? [i.source.view.name] : [])));
    expect([...used].sort()).toEqual([...unet.names(), ...motion.names()].sort());
    expect(graph.inputs.map((i) => i.shape)).toEqual([[32, 4, 64, 64], [1], [32, 77, 768]]);
    // 16 spatial transformers at 8 heads, 21 motion modules × 2 temporal attentions at 8 heads.
    const mha = graph.nodes.filter((n) => n.opType === 'MultiHeadAttention');
    expect(mha.length).toBe(16 * 2 + 21 * 2);
    expect(mha.every((n) => n.attrs.num_heads.value === 8)).toBe(true);
    expect(graph.metadata.motion_groupnorm).toBe('per_frame');
  });

  it('on WebGPU, 16 frames × 512² with CFG never holds a whole score tensor (attention in query slices)', () => {
    const unetM = load('sd15_unet.json');
    const motionM = load('motion_adapter_v2_animatelcm.json');
    const graph = buildUNetGraph(shapeOnly(unetM, /^$/), parseUNetConfig(unetM.config), {
      batch: 2,
      latentHeight: 64,
      latentWidth: 64,
      floatType: 'float16',
      attention: attentionPlanFor('webgpu'),
      motion: { w: shapeOnly(motionM, /\.pos_embed\.pe$/), cfg: parseMotionConfig(motionM.config), frames: 16, groupnorm: 'per_frame' },
    });
    expect(graph.nodes.some((n) => n.opType === 'MultiHeadAttention')).toBe(false);
    expect(graph.nodes.filter((n) => n.opType === 'Concat' && n.name.endsWith('mha/rows')).length).toBeGreaterThan(0);
    // The 64×64 self-attentions (down_blocks.0 ×2, up_blocks.3 ×3): B = 32, 8 heads, 4096 keys, fp16 = 2 MiB of
    // scores per query row; each slice's rows come from its Slice node's start/end constants.
    const consts = new Map(graph.initializers.flatMap((i) => (i.source.kind === 'const' ? [[i.name, i.source.data] as const] : [])));
    const selfAttn = graph.nodes.filter((n) => n.opType === 'Slice' && /^(down_blocks\.0|up_blocks\.3)\.attentions\.\d\.transformer_blocks\.0\.attn1\.mha\/q_rows/.test(n.name));
    expect(selfAttn).toHaveLength(5 * 32);
    for (const n of selfAttn) {
      const rows = Number((consts.get(n.inputs[2]) as BigInt64Array)[0] - (consts.get(n.inputs[1]) as BigInt64Array)[0]);
      expect(32 * 8 * rows * 4096 * 2).toBeLessThanOrEqual(DEFAULT_MAX_SCORE_BYTES); // vs 8 GiB unsliced
    }
  });
});
