import { describe, expect, it } from 'vitest';
import { starterModel } from '../../../src/main/engine/starter/starter-model';

describe('starter model', () => {
  it('is deterministic: the same bytes on every build', () => {
    const a = starterModel();
    const b = starterModel();
    for (const name of ['conv_in.weight', 'down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight']) {
      expect(Array.from(a.unet.get(name)!.readF32())).toEqual(Array.from(b.unet.get(name)!.readF32()));
    }
    const emb = a.text_encoder.get('text_model.embeddings.token_embedding.weight')!;
    expect(emb.shape).toEqual([49408, 64]);
  });

  it('initialises like PyTorch: bounded weights, unit norm scales, zero shifts, small embeddings', () => {
    const m = starterModel();
    const w = m.unet.get('conv_in.weight')!;
    const fanIn = 4 * 3 * 3;
    const data = w.readF32();
    const max = data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    expect(max).toBeLessThanOrEqual(1 / Math.sqrt(fanIn));
    expect(max).toBeGreaterThan(0.5 / Math.sqrt(fanIn));
    expect(Array.from(m.unet.get('conv_norm_out.weight')!.readF32()).every((v) => v === 1)).toBe(true);
    expect(Array.from(m.unet.get('conv_norm_out.bias')!.readF32()).every((v) => v === 0)).toBe(true);
    const emb = m.text_encoder.get('text_model.embeddings.position_embedding.weight')!.readF32();
    const std = Math.sqrt(emb.reduce((a, v) => a + v * v, 0) / emb.length);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    // Different tensors get different streams.
    const q = m.unet.get('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.weight')!.readF32();
    const k = m.unet.get('down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_k.weight')!.readF32();
    expect(q[0]).not.toBe(k[0]);
  });
});
