import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { readEmbeddingFile } from '../../../src/main/engine/embeddings/embedding-file';
import { EmbeddingVocab } from '../../../src/main/engine/embeddings/embedding-vocab';
import { CHUNK_BODY, ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import { tokenizeWeighted } from '../../../src/main/engine/tokenizer/prompt-weighting';
import { refusal } from '../refusal';

/**
 * Textual-inversion embeddings beyond what the fixture holds: emphasis syntax around an embedding (A1111 weights
 * every vector), negative prompts, an embedding that does not fit the rest of a chunk, and the refusals (wrong
 * width, SDXL, not an embedding at all). Real files from test/fixtures/reference/textual_inversion and the CLIP
 * vocabulary the studio ships.
 */
const TI = join(__dirname, '../../fixtures/reference/textual_inversion');
const tiny = ClipTokenizer.fromMerges(readFileSync(join(TI, 'tokenizer/merges.txt'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'embeddings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function vocabOf(files: string[]): EmbeddingVocab {
  return new EmbeddingVocab(
    files.map((f) => readEmbeddingFile(join(TI, f), { width: 32 })),
    (t) => tiny.encode(t),
    tiny.vocabSize,
  );
}


describe('embeddings in prompts (A1111 dialect)', () => {
  const vocab = vocabOf(['EasyNegative.pt', 'charturnerv2.safetensors']);

  it('weights every vector of an embedding by the emphasis around it, and matches the word case-insensitively', () => {
    const { chunks } = tokenizeWeighted(tiny, 'a cat, (CharTurnerV2:1.2), [easynegative]', { embeddings: vocab });
    expect(chunks).toHaveLength(1);
    const ids = chunks[0].ids;
    const at = ids.indexOf(1001);
    expect(ids.slice(at, at + 3)).toEqual([1001, 1002, 1003]);
    expect(chunks[0].weights.slice(at, at + 3)).toEqual([1.2, 1.2, 1.2]);
    const neg = ids.indexOf(1000);
    expect(neg).toBeGreaterThan(at);
    expect(chunks[0].weights[neg]).toBeCloseTo(1 / 1.1, 12);
    // the brackets and ':1.2' are syntax, not tokens
    expect(ids.filter((i) => i < tiny.vocabSize && tiny.decode([i]).includes('('))).toEqual([]);
  });

  it('expands a negative embedding in the negative prompt, in both dialects', () => {
    for (const mode of ['a1111', 'comfy'] as const) {
      const { chunks } = tokenizeWeighted(tiny, 'lowres, (EasyNegative:1.3), bad hands', { mode, embeddings: vocab });
      const k = chunks[0].ids.indexOf(1000);
      expect(k, mode).toBeGreaterThan(0);
      expect(chunks[0].weights[k], mode).toBeCloseTo(1.3, 12);
    }
  });

  it('moves an embedding that does not fit the rest of a chunk to the next chunk, whole', () => {
    const filler = Array.from({ length: CHUNK_BODY - 1 }, () => 'a').join(' ');
    const { chunks } = tokenizeWeighted(tiny, `${filler} charturnerv2`, { embeddings: vocab, commaPaddingBacktrack: 0 });
    expect(chunks).toHaveLength(2);
    expect(chunks[0].ids).not.toContain(1001);
    expect(chunks[1].ids.slice(1, 4)).toEqual([1001, 1002, 1003]);
  });

  it('counts an embedding as its vectors (the token counter)', () => {
    const body = (c: { ids: number[] }): number => c.ids.slice(1).findIndex((i) => i === tiny.eos);
    const plain = tokenizeWeighted(tiny, 'charturnerv2', {}).chunks[0];
    const withTi = tokenizeWeighted(tiny, 'charturnerv2', { embeddings: vocab }).chunks[0];
    expect(body(withTi)).toBe(3);
    expect(body(plain)).toBe(tiny.encode('charturnerv2').length);
  });
});

describe('embedding files that cannot be used', () => {
  it('refuses an embedding whose width is not the text encoder width, naming the family it is for', () => {
    const f = join(dir, 'sd2thing.safetensors');
    writeSafetensors(f, [{ name: 'emb_params', dtype: 'F32', shape: [2, 1024], data: new Float32Array(2048).fill(0.1) }]);
    const e = refusal(() => readEmbeddingFile(f, { width: 768 }));
    expect(e.code).toBe('MODEL_SHAPE_MISMATCH');
    expect(e.message).toMatch(/sd2thing\.safetensors is a textual-inversion embedding 1024 wide \(made for Stable Diffusion 2\.x\); this model's text encoder is 768 wide/);
  });

  it('refuses SDXL embeddings (clip_g / clip_l) with MODEL_FAMILY_UNSUPPORTED', () => {
    const f = join(dir, 'xl.safetensors');
    writeSafetensors(f, [
      { name: 'clip_g', dtype: 'F32', shape: [1, 1280], data: new Float32Array(1280) },
      { name: 'clip_l', dtype: 'F32', shape: [1, 768], data: new Float32Array(768) },
    ]);
    const e = refusal(() => readEmbeddingFile(f, { width: 768 }));
    expect(e.code).toBe('MODEL_FAMILY_UNSUPPORTED');
    expect(e.message).toMatch(/SDXL embedding/);
  });

  it('refuses a file that is not an embedding (a LoRA, a VAE) with FORMAT_MISMATCH', () => {
    for (const f of [join(TI, '../lora_motion/motion_lora.safetensors'), join(TI, '../vae_override/vae_standalone_ldm.safetensors')]) {
      const e = refusal(() => readEmbeddingFile(f, { width: 768 }));
      expect(e.code, f).toBe('FORMAT_MISMATCH');
      expect(e.message, f).toMatch(/is not a textual-inversion embedding/);
    }
  });

  it('refuses two embeddings answering to the same word', () => {
    const a = readEmbeddingFile(join(TI, 'EasyNegative.pt'), { width: 32 });
    const b = readEmbeddingFile(join(TI, 'EasyNegative.safetensors'), { width: 32 });
    const e = refusal(() => new EmbeddingVocab([a, b], (t) => tiny.encode(t), tiny.vocabSize));
    expect(e.code).toBe('INVALID_PARAMS');
    expect(e.message).toMatch(/Two embeddings answer to the same word "EasyNegative"/);
  });
});
