import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import type { TextualInversion } from '../../../src/main/engine/embeddings/embedding-file';
import { EmbeddingVocab } from '../../../src/main/engine/embeddings/embedding-vocab';
import { ModelSet } from '../../../src/main/engine/models/model-set';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';

/**
 * A loaded ModelSet (starter model) taking a VAE override and textual-inversion embeddings per generation: only the
 * VAE decoder's session changes with the VAE, the UNet and text encoder stay; embeddings are feeds of one `_ti`
 * text-encoder graph, and an embedding vector equal to a word's token row encodes exactly like that word.
 */
let root: string;
let vaeOther: string;
let set: ModelSet;
const tok = ClipTokenizer.load();
const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'per-generation-assets-'));
  const s = starterModel();
  vaeOther = join(root, 'other-vae.safetensors');
  writeSafetensors(
    vaeOther,
    s.vae.names().map((n) => {
      const v = s.vae.get(n)!;
      const d = Float32Array.from(v.readF32());
      if (n.startsWith('decoder.up_blocks.0')) for (let i = 0; i < d.length; i++) d[i] *= 1.5;
      return { name: n, dtype: 'F32' as const, shape: v.shape, data: d };
    }),
  );
  set = new ModelSet(starterSource(), { cacheRoot: join(root, 'cache'), providers: ['cpu'] });
});
afterAll(async () => {
  await set?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('per-generation VAE and embeddings on a loaded ModelSet', () => {
  it('switches the VAE by reopening only the VAE decoder, and switches back exactly', async () => {
    const latents = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.cos(i * 0.13));
    const shape = { batch: 1, frames: 2, latentHeight: 8, latentWidth: 8, tokens: 77 };
    const sample = Float32Array.from({ length: 2 * 4 * 64 }, (_, i) => Math.sin(i * 0.21));
    const context = new Float32Array(2 * 77 * 64).fill(0.1);
    const u0 = await set.unet(sample, 500, context, shape);
    const base = await set.decode(latents, 8, 8);
    const opened = set.stats.sessionsCreated;

    set.setVae(vaeOther);
    expect(set.vaePath).toBe(vaeOther);
    const other = await set.decode(latents, 8, 8);
    expect(same(other, base)).toBe(false);
    expect(set.stats.sessionsCreated).toBe(opened + 1); // the VAE decoder only
    expect(same(await set.unet(sample, 500, context, shape), u0)).toBe(true);
    expect(set.stats.sessionsCreated).toBe(opened + 1);

    set.setVae(undefined);
    expect(same(await set.decode(latents, 8, 8), base)).toBe(true);
  });

  it('feeds embedding rows: a vector equal to a word’s token row encodes exactly like the word', async () => {
    const s = starterModel();
    const H = s.configs.text_encoder.hidden_size;
    const table = s.text_encoder.get('text_model.embeddings.token_embedding.weight')!.readF32();
    const cat = tok.encode('cat')[0];
    const emb = (name: string, rows: number[]): TextualInversion => {
      const vectors = new Float32Array(rows.length * H);
      rows.forEach((r, i) => vectors.set(table.subarray(r * H, (r + 1) * H), i * H));
      return { name, path: `${name}.safetensors`, format: 'a1111_safetensors', count: rows.length, width: H, vectors };
    };
    const ids = (body: number[]): number[] => [tok.bos, ...body, ...new Array<number>(76 - body.length).fill(tok.eos)];
    const word = await set.encodeText(ids([320, cat]), 1);

    const vocab = new EmbeddingVocab([emb('mycat', [cat])], (t) => tok.encode(t), tok.vocabSize);
    set.setEmbeddings(vocab);
    const placeholder = vocab.expand(tok.encode('mycat'));
    expect(placeholder).toEqual([tok.vocabSize]);
    const viaEmbedding = await set.encodeText(ids([320, ...placeholder]), 1);
    let maxDiff = 0;
    for (let i = 0; i < word.length; i++) maxDiff = Math.max(maxDiff, Math.abs(word[i] - viaEmbedding[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    const opened = set.stats.sessionsCreated;

    // other embeddings: new rows into the same `_ti` session
    const vocab2 = new EmbeddingVocab([emb('twodogs', [tok.encode('dog')[0], tok.encode('dog')[0]]), emb('mycat', [cat])], (t) => tok.encode(t), tok.vocabSize);
    set.setEmbeddings(vocab2);
    const again = await set.encodeText(ids([320, ...vocab2.expand(tok.encode('mycat'))]), 1);
    expect(vocab2.expand(tok.encode('mycat'))).toEqual([tok.vocabSize + 2]);
    expect(same(again, viaEmbedding)).toBe(true);
    expect(set.stats.sessionsCreated).toBe(opened);

    // without embeddings, a placeholder id is refused rather than read past the table
    set.setEmbeddings(undefined);
    await expect(set.encodeText(ids([320, tok.vocabSize]), 1)).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
  });
});
