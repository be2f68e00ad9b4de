import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMotionConfig, parseUNetConfig } from '../../../src/main/compiler/families/configs';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
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
});
