import { describe, expect, it } from 'vitest';
import { buildClipTextGraph } from '../../../src/main/compiler/families/clip-text';
import { parseClipTextConfig, parseVaeConfig } from '../../../src/main/compiler/families/configs';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../../src/main/compiler/families/vae';
import { collectWeights, encodeModel, weightKey } from '../../../src/main/compiler/graph/emit';
import type { GraphIR } from '../../../src/main/compiler/graph/builder';
import { manifestWeights } from './manifest-shapes';

/** Every weight a set of graphs reads, by stored name. */
function used(graphs: GraphIR[]): Set<string> {
  return new Set(collectWeights(graphs).map((i) => i.view.name));
}

function fakeIndex(graphs: GraphIR[]) {
  return new Map(collectWeights(graphs).map((i) => [i.key, { file: 'weights.bin', offset: 0, length: 0, elemType: graphs[0].floatType, numel: i.view.shape.reduce((a, b) => a * b, 1) }]));
}

describe('full-size SD1.5 components (names and shapes from the real manifests, no data)', () => {
  it('CLIP ViT-L/14 text: every manifest weight is used, position_ids is not, and the graph proto stays small', () => {
    const m = manifestWeights('clip_vit_l14_text.json');
    const cfg = parseClipTextConfig(m.config);
    expect([cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads]).toEqual([768, 12, 12]);
    const graph = buildClipTextGraph(m.weights, cfg, { batch: 2 });
    const u = used([graph]);
    expect(m.keys.filter((k) => !u.has(k))).toEqual(['text_model.embeddings.position_ids']);
    expect(encodeModel(graph, fakeIndex([graph])).byteLength).toBeLessThan(200_000);
  });

  it('SD VAE (kl-f8): decoder + encoder use exactly the manifest weights; 64×64 latents decode to 512×512', () => {
    const m = manifestWeights('sd15_vae.json');
    const cfg = parseVaeConfig(m.config);
    const dec = buildVaeDecoderGraph(m.weights, cfg, { batch: 1, latentHeight: 64, latentWidth: 64, floatType: 'float16' });
    const enc = buildVaeEncoderGraph(m.weights, cfg, { batch: 1, height: 512, width: 512, floatType: 'float16' });
    expect(dec.outputs[0].shape).toEqual([1, 3, 512, 512]);
    expect(enc.outputs[0].shape).toEqual([1, 8, 64, 64]);
    const u = used([dec, enc]);
    expect(m.keys.filter((k) => !u.has(k))).toEqual([]);
    expect([...u].filter((k) => !m.keys.includes(k))).toEqual([]);
    // the attention projections are stored transposed once, shared by nothing else
    expect(collectWeights([dec]).some((i) => i.key === weightKey({ view: m.weights.get('decoder.mid_block.attentions.0.to_q.weight')!, transpose: true }))).toBe(true);
  });
});
