import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { decodePng } from '../../../src/main/formats/png';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import { cli } from '../cli-in-process';
import { writeMotionLora } from '../lora/fixtures';

/**
 * The creator's extra files through the CLI on the starter model (in process): `--embedding` (textual inversion,
 * called by its file name in the prompt and the negative prompt), `--vae` (a standalone VAE file) and a
 * MotionLoRA through `--lora`; the history records them; bad files are refused with the typed error's message;
 * `inspect` names each file's kind.
 */
const SMALL = ['--width', '64', '--height', '64', '--frames', '4', '--steps', '2', '--seed', '11'];
const REF = join(__dirname, '../../fixtures/reference');
let root: string;
let data: string;
let shiny: string;
let wide: string;
let vaeSame: string;
let vaeOther: string;
let motionLora: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'creator-assets-cli-'));
  data = join(root, 'data');
  const s = starterModel();
  const H = s.configs.text_encoder.hidden_size;
  shiny = join(root, 'shinyboat.safetensors');
  writeSafetensors(shiny, [{ name: 'emb_params', dtype: 'F32', shape: [2, H], data: Float32Array.from({ length: 2 * H }, (_, i) => Math.sin(i * 0.7) * 2) }]);
  wide = join(root, 'widething.safetensors');
  writeSafetensors(wide, [{ name: 'emb_params', dtype: 'F32', shape: [1, 768], data: new Float32Array(768).fill(0.01) }]);
  const vae = (path: string, shift: number): void =>
    writeSafetensors(
      path,
      s.vae.names().map((n) => {
        const v = s.vae.get(n)!;
        const d = Float32Array.from(v.readF32());
        if (n === 'decoder.conv_out.bias') for (let i = 0; i < d.length; i++) d[i] += shift;
        return { name: n, dtype: 'F32' as const, shape: v.shape, data: d };
      }),
    );
  vaeSame = join(root, 'starter-vae.safetensors');
  vae(vaeSame, 0);
  vaeOther = join(root, 'other-vae.safetensors');
  vae(vaeOther, 0.5);
  motionLora = join(root, 'v2_lora_PanLeft.safetensors');
  writeMotionLora(motionLora, 4, 77);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Decoded pixels of every frame (the PNG bytes also carry the parameters, which differ run to run). */
function frames(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.png'))
    .sort()
    .map((n) => Buffer.from(decodePng(readFileSync(join(dir, n))).rgb));
}
const same = (a: Buffer[], b: Buffer[]): boolean => a.length === b.length && a.every((x, i) => x.equals(b[i]));

async function gen(name: string, ...extra: string[]): Promise<{ code: number; out: string; err: string; dir: string }> {
  const dir = join(root, name);
  const r = await cli('generate', ...SMALL, ...extra, '--out', dir, '--data-dir', data, '--json');
  return { ...r, dir };
}

describe('generate --embedding / --vae / MotionLoRA (starter model)', () => {
  it('uses an embedding by its file name in the prompt and the negative prompt, and records it', async () => {
    const plain = await gen('plain', '--prompt', 'a shinyboat on a pond', '--negative', 'blurry', '--guidance', '1.5');
    expect(plain.code, plain.err).toBe(0);
    const ti = await gen('ti', '--prompt', 'a shinyboat on a pond', '--negative', 'blurry', '--guidance', '1.5', '--embedding', shiny);
    expect(ti.code, ti.err).toBe(0);
    expect(ti.err).toMatch(/Embeddings: shinyboat \(2 vectors\)/);
    expect(same(frames(plain.dir), frames(ti.dir))).toBe(false);
    const params = JSON.parse(readFileSync(join(ti.dir, 'params.json'), 'utf8')) as { embeddings: Array<{ path: string; name: string; vectors: number }> };
    expect(params.embeddings).toEqual([expect.objectContaining({ path: shiny, name: 'shinyboat', vectors: 2 })]);

    // the same embedding as a (weighted) negative embedding changes the clip too
    const neg = await gen('ti-neg', '--prompt', 'a boat on a pond', '--negative', '(shinyboat:1.2), blurry', '--guidance', '1.5', '--embedding', shiny);
    expect(neg.code, neg.err).toBe(0);
    const negPlain = await gen('ti-neg-plain', '--prompt', 'a boat on a pond', '--negative', '(shinyboat:1.2), blurry', '--guidance', '1.5');
    expect(same(frames(neg.dir), frames(negPlain.dir))).toBe(false);

    const id = (JSON.parse(ti.out) as { historyId: number }).historyId;
    const db = openDatabase(data);
    try {
      const rec = await new HistoryService(db).getGeneration(id);
      expect(rec.params.embeddings?.[0]).toMatchObject({ path: shiny });
      expect(rec.params.embeddings?.[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      db.close();
    }
    expect((await cli('history', 'show', String(id), '--data-dir', data)).out).toContain(`  embedding: ${shiny} [`);
  });

  it('refuses an embedding of another width with the reason', async () => {
    const r = await gen('wide', '--prompt', 'a widething', '--embedding', wide, '--no-history');
    expect(r.code).not.toBe(0);
    expect(`${r.out}${r.err}`).toMatch(/widething\.safetensors is a textual-inversion embedding 768 wide \(made for Stable Diffusion 1\.x\); this model's text encoder is 64 wide/);
  });

  it('replaces the VAE per generation: the same weights give the same frames, other weights other frames', async () => {
    const plain = await gen('vae-plain', '--prompt', 'a red kite');
    const sameVae = await gen('vae-same', '--prompt', 'a red kite', '--vae', vaeSame);
    const otherVae = await gen('vae-other', '--prompt', 'a red kite', '--vae', vaeOther);
    for (const r of [plain, sameVae, otherVae]) expect(r.code, r.err).toBe(0);
    expect(same(frames(plain.dir), frames(sameVae.dir))).toBe(true);
    expect(same(frames(plain.dir), frames(otherVae.dir))).toBe(false);
    expect(otherVae.err).toMatch(/VAE: other-vae\.safetensors/);
    const id = (JSON.parse(otherVae.out) as { historyId: number }).historyId;
    const db = openDatabase(data);
    try {
      expect((await new HistoryService(db).getGeneration(id)).params.vae).toBe(vaeOther);
    } finally {
      db.close();
    }
    const shown = await cli('history', 'show', String(id), '--data-dir', data);
    expect(shown.out).toContain(`  vae:       ${vaeOther}`);
    const bad = await gen('vae-bad', '--prompt', 'a red kite', '--vae', motionLora, '--no-history');
    expect(bad.code).not.toBe(0);
    expect(`${bad.out}${bad.err}`).toMatch(/v2_lora_PanLeft\.safetensors is not a VAE/);
  });

  it('applies a MotionLoRA through --lora like any LoRA', async () => {
    const plain = await gen('ml-plain', '--prompt', 'a red kite');
    const ml = await gen('ml', '--prompt', 'a red kite', '--lora', `${motionLora}:0.8`);
    expect(ml.code, ml.err).toBe(0);
    expect(ml.err).toMatch(/motion modules: \d+ layers switched at run time/);
    expect((JSON.parse(ml.out) as { loraReports: string[] }).loraReports[0]).toMatch(/^v2_lora_PanLeft\.safetensors: applied (\d+)\/\1 keys$/);
    expect(same(frames(plain.dir), frames(ml.dir))).toBe(false);
  });
});

describe('tokenize --embedding (the token counter)', () => {
  it('counts each embedding as its vectors, with ids as diffusers gives them on the full CLIP vocabulary', async () => {
    const TI = join(REF, 'textual_inversion');
    const table = JSON.parse(readFileSync(join(TI, 'prompts.json'), 'utf8')) as { positive: Array<{ text: string; input_ids_full_clip_vocab: number[] }> };
    // prompts without emphasis syntax (the fixture tokenizes emphasis literally)
    for (const p of table.positive.filter((x) => !x.text.includes('('))) {
      const r = await cli('tokenize', '--json', '--embedding', join(TI, 'EasyNegative.pt'), '--embedding', join(TI, 'charturnerv2.pt'), p.text);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as { chunks: Array<{ ids: number[] }> };
      expect(j.chunks[0].ids, p.text).toEqual(p.input_ids_full_clip_vocab);
    }
  });
});

describe('inspect names the kind of a creator file', () => {
  it.each([
    [join(REF, 'lora_motion/motion_lora.ckpt'), 'motion_lora'],
    [join(REF, 'textual_inversion/charturnerv2.pt'), 'embedding'],
    [join(REF, 'textual_inversion/learned_embeds_EasyNegative.safetensors'), 'embedding'],
    [join(REF, 'vae_override/vae_standalone_ldm.safetensors'), 'vae'],
    [join(REF, 'lora/lora_kohya.safetensors'), 'lora'],
  ])('%s → %s', async (file, kind) => {
    const r = await cli('inspect', file, '--json', '--no-hash');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { kind: string; embedding?: { word: string; vectors: number } };
    expect(j.kind).toBe(kind);
    if (kind === 'embedding') expect(j.embedding).toMatchObject(file.includes('charturner') ? { word: 'charturnerv2', vectors: 3 } : { word: 'EasyNegative', vectors: 1 });
  });
});
