import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { inspectModelFile } from '../../../src/main/engine/jobs/inspect-file';
import { LibraryService } from '../../../src/main/services/library-service';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { FIXTURES, LORA_KOHYA, LORA_LOHA, MOTION_MODULE, tempDataDir } from './helpers';
import { rejection } from '../refusal';

/** Independent of the streaming hasher: whole file in memory, header length read by hand. */
function referenceHashes(path: string): { sha256: string; autov3: string } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  return {
    sha256: createHash('sha256').update(buf).digest('hex'),
    autov3: createHash('sha256').update(buf.subarray(8 + n)).digest('hex').slice(0, 12).toUpperCase(),
  };
}


describe('LibraryService', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  let lib: LibraryService;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('lib-'));
    db = openDatabase(join(dir, 'data'));
    lib = new LibraryService(db);
  });
  afterEach(() => {
    db.close();
    cleanup();
  });

  it('inspects with the compiler readers: full SHA-256, AutoV2, AutoV3 (tensor bytes only), kind and base', async () => {
    for (const file of [LORA_KOHYA, LORA_LOHA]) {
      const ref = referenceHashes(file);
      const info = await inspectModelFile(file);
      expect(info.sha256).toBe(ref.sha256);
      expect(info.autov2).toBe(ref.sha256.slice(0, 10).toUpperCase());
      expect(info.autov3).toBe(ref.autov3);
      // AutoV3 ignores the header, so it differs from the full-file hash prefix.
      expect(info.autov3).not.toBe(ref.sha256.slice(0, 12).toUpperCase());
      expect(info.kind).toBe('lora');
    }
    expect((await inspectModelFile(MOTION_MODULE)).kind).toBe('motion');
  });

  it('imports a kohya LoRA by reference with hashes, size, kind, metadata; re-import returns the same item', async () => {
    const ref = referenceHashes(LORA_KOHYA);
    const first = await lib.importFile(LORA_KOHYA);
    expect(first.existing).toBe(false);
    const item = first.item;
    expect(item).toMatchObject({
      kind: 'lora',
      name: 'lora_kohya',
      path: LORA_KOHYA,
      storage: 'reference',
      sizeBytes: readFileSync(LORA_KOHYA).length,
      sha256: ref.sha256,
      autov2: ref.sha256.slice(0, 10).toUpperCase(),
      autov3: ref.autov3,
      availability: 'ok',
      favourite: false,
    });
    expect(item.metadata.ss_network_module).toBe('networks.lora');

    const again = await lib.importFile(LORA_KOHYA, { mode: 'copy' });
    expect(again.existing).toBe(true);
    expect(again.item.id).toBe(item.id);
    expect(await lib.listLoras()).toHaveLength(1);
    expect(existsSync(join(dir, 'data', 'library'))).toBe(false); // nothing copied for a known file
  });

  it('reads the base family from kohya metadata (LoHa: sd_v1) and sorts LoRAs from models', async () => {
    const loha = (await lib.importFile(LORA_LOHA)).item;
    expect(loha).toMatchObject({ kind: 'lora', family: 'sd15', supported: true });
    const motion = (await lib.importFile(MOTION_MODULE)).item;
    expect(motion.kind).toBe('motion');
    expect((await lib.listLoras()).map((i) => i.id)).toEqual([loha.id]);
    expect((await lib.listModels()).map((i) => i.id)).toEqual([motion.id]);
    expect((await lib.listModels({ kind: 'motion' })).map((i) => i.id)).toEqual([motion.id]);
  });

  it('copies into the data folder on request (complete file, no temporaries left) and deletes only its own copy on remove', async () => {
    const { item } = await lib.importFile(LORA_KOHYA, { mode: 'copy' });
    expect(item.storage).toBe('copy');
    expect(readdirSync(join(dir, 'data', 'library'))).toEqual([`${item.sha256.slice(0, 8)}-lora_kohya.safetensors`]);
    expect(item.path.startsWith(join(dir, 'data', 'library'))).toBe(true);
    expect(readFileSync(item.path).equals(readFileSync(LORA_KOHYA))).toBe(true);
    await lib.removeItem(item.id);
    expect(existsSync(item.path)).toBe(false);
    expect(existsSync(LORA_KOHYA)).toBe(true);

    const local = join(dir, 'mine.safetensors');
    copyFileSync(LORA_LOHA, local);
    const ref = (await lib.importFile(local)).item;
    await lib.removeItem(ref.id);
    expect(existsSync(local)).toBe(true); // a referenced file belongs to the creator
    expect(await lib.list()).toEqual([]);
  });

  it('marks moved, deleted and changed files without crashing, and a re-import from the new place relinks the item', async () => {
    const a = join(dir, 'a.safetensors');
    const b = join(dir, 'b.safetensors');
    copyFileSync(LORA_KOHYA, a);
    copyFileSync(LORA_LOHA, b);
    const ia = (await lib.importFile(a)).item;
    const ib = (await lib.importFile(b)).item;
    const moved = join(dir, 'moved', 'a.safetensors');
    mkdirSync(join(dir, 'moved'));
    renameSync(a, moved);
    appendFileSync(b, Buffer.from('trailing junk'));
    const r = await lib.refresh();
    expect(r).toMatchObject({ checked: 2, missing: 1, changed: 1 });
    expect((await lib.getItem(ia.id)).availability).toBe('missing');
    expect((await lib.getItem(ib.id)).availability).toBe('changed');
    expect(await lib.list({ availability: 'missing' })).toHaveLength(1);

    const relinked = await lib.importFile(moved);
    expect(relinked).toMatchObject({ existing: true, item: { id: ia.id, path: moved, availability: 'ok' } });
  });

  it('edits trigger words, tags, favourite, name and preview, and filters on them', async () => {
    const { item } = await lib.importFile(LORA_KOHYA);
    const updated = await lib.updateItem(item.id, {
      name: '  Snowy Fox  ',
      triggerWords: ['sn0wfox', ' sn0wfox ', 'winter style', ''],
      tags: ['Animals', 'animals', 'winter'],
      favourite: true,
      preview: 'data:image/png;base64,iVBORw0KGgo=',
    });
    expect(updated).toMatchObject({
      name: 'Snowy Fox',
      triggerWords: ['sn0wfox', 'winter style'],
      tags: ['Animals', 'winter'],
      favourite: true,
      previewSource: 'user',
    });
    expect((await lib.list({ tag: 'animals' })).map((i) => i.id)).toEqual([item.id]);
    expect((await lib.list({ text: 'WINTER STY' })).map((i) => i.id)).toEqual([item.id]);
    expect(await lib.list({ text: 'nothing like it' })).toEqual([]);
    expect(await lib.list({ favourite: false })).toEqual([]);
    // Removed by the creator: no preview, and the choice is theirs (a sidecar re-read does not undo it).
    expect(await lib.updateItem(item.id, { preview: null })).toMatchObject({ preview: null, previewSource: 'user' });
    expect((await rejection(lib.updateItem(item.id, { name: '   ' }))).code).toBe('BAD_REQUEST');
    expect((await rejection(lib.updateItem(9999, { favourite: true }))).code).toBe('NOT_FOUND');
  });

  it('explains files that are not models, missing files and kind mismatches instead of importing them', async () => {
    const junk = join(dir, 'page.safetensors');
    writeFileSync(junk, '<!DOCTYPE html><html><body>Sign in to download</body></html>');
    const e1 = await rejection(lib.importFile(junk));
    expect(e1.message).toMatch(/page|html|web/i);
    expect((await rejection(lib.importFile(join(dir, 'nope.safetensors')))).code).toBe('FILE_NOT_FOUND');
    expect((await rejection(lib.importFile(dir))).code).toBe('BAD_REQUEST');
    const e2 = await rejection(lib.importFile(LORA_KOHYA, { kind: 'checkpoint' }));
    expect(e2.code).toBe('FORMAT_MISMATCH');
    expect(e2.message).toContain('LoRA');
    expect(await lib.list()).toEqual([]);
    // A VAE on its own is a library kind since model folders (issue 18): the Generate form's VAE override.
    expect((await lib.importFile(join(FIXTURES, 'vae', 'weights.safetensors'))).item.kind).toBe('vae');
  });

  it('takes title, trigger words, thumbnail and an unsupported family from the file metadata', async () => {
    const file = join(dir, 'xl.safetensors');
    const thumb = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==';
    writeSafetensors(
      file,
      [
        { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', dtype: 'F32', shape: [2, 4], data: new Float32Array(8).fill(0.5) },
        { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', dtype: 'F32', shape: [4, 2], data: new Float32Array(8).fill(0.25) },
      ],
      {
        ss_output_name: 'paper_cut_style',
        ss_base_model_version: 'sdxl_base_v1-0',
        ss_tag_frequency: JSON.stringify({ '10_papercut': { papercut: 10, 'paper art': 10, bird: 3 }, '5_extra': { papercut: 5, layered: 2 } }),
        'modelspec.thumbnail': thumb,
      },
    );
    const { item } = await lib.importFile(file);
    expect(item).toMatchObject({
      kind: 'lora',
      name: 'paper_cut_style',
      family: 'sdxl',
      supported: false,
      triggerWords: ['papercut', 'paper art', 'bird', 'layered'], // suggestions, most frequent training tag first
      preview: thumb,
      previewSource: 'file',
    });
    expect(item.supportMessage).toMatch(/SDXL.*SD1\.5/);
  });

  it('records each embedding\'s word and vector count, as Generate shows and inserts them (A1111 .pt, .safetensors, diffusers)', async () => {
    const ti = join(FIXTURES, 'textual_inversion');
    const cases: [string, string, string][] = [
      ['EasyNegative.safetensors', 'EasyNegative', '1'],
      ['charturnerv2.pt', 'charturnerv2', '3'],
      // A diffusers file under its default name: the word is its own key, not "learned_embeds_…".
      ['learned_embeds_charturnerv2.safetensors', 'charturnerv2', '3'],
    ];
    for (const [file, word, vectors] of cases) {
      const { item } = await lib.importFile(join(ti, file));
      expect(item.kind).toBe('embedding');
      expect(item.metadata).toMatchObject({ 'embedding.word': word, 'embedding.vectors': vectors, 'embedding.width': '32' });
    }
  });

  it('uses an injected inspector, so hashing and detection can be swapped', async () => {
    const calls: string[] = [];
    const custom = new LibraryService(db, {
      inspector: async (path) => {
        calls.push(path);
        return { ...(await inspectModelFile(path)), family: 'sd15', familyLabel: 'SD1.5 (custom)', triggerWords: ['custom'] };
      },
    });
    const { item } = await custom.importFile(LORA_KOHYA);
    expect(calls).toEqual([LORA_KOHYA]);
    expect(item).toMatchObject({ familyLabel: 'SD1.5 (custom)', triggerWords: ['custom'] });
  });
});
