import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { LibraryService } from '../../../src/main/services/library-service';
import { inspectModelFile } from '../../../src/main/engine/jobs/inspect-file';
import type { LibraryItem } from '../../../src/shared/domain/library';
import { ModelFolderService } from '../../../src/main/services/model-folders';
import { SIDECAR_MAX_BYTES } from '../../../src/main/services/model-sidecars';
import { LORA_KOHYA, MOTION_MODULE, tempDataDir } from '../store/helpers';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('sidecars feed the cards', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  let lib: LibraryService;
  let folders: ModelFolderService;
  let root: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('sidecars-'));
    db = openDatabase(join(dir, 'data'));
    lib = new LibraryService(db);
    folders = new ModelFolderService(db, lib);
    root = join(dir, 'webui');
    mkdirSync(join(root, 'models', 'Lora'), { recursive: true });
  });
  afterEach(async () => {
    await folders.close();
    db.close();
    cleanup();
  });

  /**
   * The real inspector, counted (a sidecar change must not send the model file through it again), and a LoRA
   * `paper.safetensors` in the root's models/Lora.
   */
  async function countedPaper(): Promise<{ inspected: string[]; loraDir: string }> {
    const inspected: string[] = [];
    await folders.close();
    lib = new LibraryService(db, { inspector: (p) => (inspected.push(p), inspectModelFile(p)) });
    folders = new ModelFolderService(db, lib);
    const loraDir = join(root, 'models', 'Lora');
    copyFileSync(LORA_KOHYA, join(loraDir, 'paper.safetensors'));
    return { inspected, loraDir };
  }

  it('preview, activation text before trained words, base model and preferred weight; studio edits never touch the files', async () => {
    const lora = join(root, 'models', 'Lora', 'paper.safetensors');
    copyFileSync(LORA_KOHYA, lora);
    writeFileSync(join(root, 'models', 'Lora', 'paper.preview.png'), PNG);
    const a1111 = JSON.stringify({ 'activation text': 'papercut style, layered', 'preferred weight': 0.7, notes: 'use with low CFG', 'sd version': 'SD1' });
    writeFileSync(join(root, 'models', 'Lora', 'paper.json'), a1111);
    const civitai = JSON.stringify({ trainedWords: ['papercut', 'paper art'], baseModel: 'SD 1.5', description: '<p>Paper</p>', images: [{ url: 'https://example.invalid/x.png' }] });
    writeFileSync(join(root, 'models', 'Lora', 'paper.civitai.info'), civitai);
    await folders.addFolder(root, 'a1111');
    await folders.hashPending();
    const [item] = await lib.listLoras();
    expect(item.preview).toBe(join(root, 'models', 'Lora', 'paper.preview.png'));
    expect(item.previewSource).toBe('file');
    expect(item.triggerWords).toEqual(['papercut style', 'layered', 'papercut', 'paper art']);
    expect(item.metadata).toMatchObject({ 'sidecar.baseModel': 'SD 1.5', 'sidecar.preferredWeight': '0.7', 'sidecar.notes': 'use with low CFG', 'sidecar.description': '<p>Paper</p>' });

    await lib.updateItem(item.id, { triggerWords: ['mine'], preview: null });
    expect(readFileSync(join(root, 'models', 'Lora', 'paper.json'), 'utf8')).toBe(a1111);
    expect(readFileSync(join(root, 'models', 'Lora', 'paper.civitai.info'), 'utf8')).toBe(civitai);
    // A rescan keeps the creator's edits.
    await folders.scan(1);
    await folders.hashPending();
    expect((await lib.getItem(item.id)).triggerWords).toEqual(['mine']);
    // The preview the creator removed stays removed, though the sidecar image is still there (rescans re-read sidecars).
    expect((await lib.getItem(item.id)).preview).toBeNull();
  });

  it('malformed, huge, not-an-image and outside-the-folder sidecars are skipped with a note; the model is indexed anyway', async () => {
    const lora = join(root, 'models', 'Lora', 'bad.safetensors');
    copyFileSync(LORA_KOHYA, lora);
    writeFileSync(join(root, 'models', 'Lora', 'bad.json'), '{"activation text": "oops"');
    writeFileSync(join(root, 'models', 'Lora', 'bad.civitai.info'), Buffer.alloc(SIDECAR_MAX_BYTES + 1, 0x20));
    writeFileSync(join(root, 'models', 'Lora', 'bad.preview.png'), '<html>not an image</html>');
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', 'secret.png'), PNG);
    mkdirSync(join(root, 'models', 'Stable-diffusion'), { recursive: true });
    copyFileSync(MOTION_MODULE, join(root, 'models', 'Stable-diffusion', 'mm.safetensors'));
    symlinkSync(join(dir, 'outside', 'secret.png'), join(root, 'models', 'Stable-diffusion', 'mm.preview.png'));
    await folders.addFolder(root, 'a1111');
    await folders.hashPending();
    const items = await lib.list();
    expect(items).toHaveLength(2);
    expect(items.every((i) => i.preview === null)).toBe(true);
    const notes = Object.fromEntries(folders.notes().map((n) => [n.path, n.note]));
    expect(notes['models/Lora/bad.safetensors']).toMatch(/bad\.preview\.png was skipped: it is not a PNG, JPEG or WebP image/);
    expect(notes['models/Lora/bad.safetensors']).toMatch(/bad\.json was skipped: it is not valid JSON/);
    expect(notes['models/Lora/bad.safetensors']).toMatch(/bad\.civitai\.info was skipped: .* too large/);
    expect(notes['models/Stable-diffusion/mm.safetensors']).toMatch(/mm\.preview\.png was skipped: it leads outside the model folder/);
    expect(folders.listFolders()[0]).toMatchObject({ done: 2, failed: 0 });
  });

  it('a watched folder re-reads a sidecar that is added, changed or removed, without hashing the model again; studio edits stay', async () => {
    const { inspected, loraDir } = await countedPaper();
    await folders.addFolder(root, 'a1111');
    await folders.hashPending();
    const [before] = await lib.listLoras();
    expect(before.preview).toBeNull();
    folders.watchFolder(1, 50);

    const until = async (what: string, ok: (i: LibraryItem) => boolean): Promise<LibraryItem> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const item = await lib.getItem(before.id);
        if (ok(item)) return item;
        if (Date.now() > deadline) throw new Error(`the card never showed ${what}: ${JSON.stringify({ triggerWords: item.triggerWords, preview: item.preview, metadata: item.metadata })}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    writeFileSync(join(loraDir, 'paper.json'), JSON.stringify({ 'activation text': 'papercut style', 'preferred weight': 0.6 }));
    await until('the activation text', (i) => i.triggerWords.join() === 'papercut style' && i.metadata['sidecar.preferredWeight'] === '0.6');
    writeFileSync(join(loraDir, 'paper.preview.png'), PNG);
    await until('the preview', (i) => i.preview === join(loraDir, 'paper.preview.png') && i.previewSource === 'file');
    writeFileSync(join(loraDir, 'paper.civitai.info'), JSON.stringify({ trainedWords: ['paper art'], baseModel: 'SD 1.5' }));
    await until('the base model and trained words', (i) => i.metadata['sidecar.baseModel'] === 'SD 1.5' && i.triggerWords.join() === 'papercut style,paper art');
    writeFileSync(join(loraDir, 'paper.json'), JSON.stringify({ 'activation text': 'layered paper', 'preferred weight': 0.8 }));
    await until('the changed activation text', (i) => i.triggerWords.join() === 'layered paper,paper art' && i.metadata['sidecar.preferredWeight'] === '0.8');
    // A broken edit: the item says why, and keeps nothing stale from the sidecar.
    writeFileSync(join(loraDir, 'paper.json'), '{"activation text": ');
    await until('the note on the broken sidecar', (i) => /paper\.json was skipped: it is not valid JSON/.test(i.metadata['sidecar.problems'] ?? '') && i.metadata['sidecar.preferredWeight'] === undefined);
    expect(folders.notes(1)[0]?.note).toMatch(/paper\.json was skipped/);

    rmSync(join(loraDir, 'paper.json'));
    rmSync(join(loraDir, 'paper.civitai.info'));
    rmSync(join(loraDir, 'paper.preview.png'));
    const back = await until('the file as it is without sidecars', (i) => i.preview === null && i.metadata['sidecar.baseModel'] === undefined && i.metadata['sidecar.problems'] === undefined);
    expect(back.triggerWords).toEqual(before.triggerWords);
    expect(folders.notes(1)).toEqual([]);

    // The creator's own trigger words win over a sidecar that changes later; the rest still follows the sidecar.
    await lib.updateItem(before.id, { triggerWords: ['mine'] });
    writeFileSync(join(loraDir, 'paper.json'), JSON.stringify({ 'activation text': 'not mine', 'sd version': 'SD1' }));
    const edited = await until('the sidecar base model', (i) => i.metadata['sidecar.baseModel'] === 'SD1');
    expect(edited.triggerWords).toEqual(['mine']);
    expect(inspected).toEqual([join(loraDir, 'paper.safetensors')]);
  });

  it('a sidecar edited while the studio was closed is read by the rescan at start; an unchanged one changes nothing', async () => {
    const { inspected, loraDir } = await countedPaper();
    writeFileSync(join(loraDir, 'paper.json'), JSON.stringify({ 'activation text': 'papercut style' }));
    await folders.addFolder(root, 'a1111');
    await folders.hashPending();
    const [first] = await lib.listLoras();
    expect(first.triggerWords).toEqual(['papercut style']);

    // A restart with nothing changed: the item is not touched.
    await folders.close();
    folders = new ModelFolderService(db, lib);
    await folders.rescanAll();
    expect((await lib.getItem(first.id)).updatedAt).toBe(first.updatedAt);

    // Closed; the creator edits the sidecar in another tool; the studio starts again.
    await folders.close();
    writeFileSync(join(loraDir, 'paper.json'), JSON.stringify({ 'activation text': 'folded paper', 'preferred weight': 0.5 }));
    writeFileSync(join(loraDir, 'paper.preview.png'), PNG);
    folders = new ModelFolderService(db, lib);
    await folders.rescanAll();
    const after = await lib.getItem(first.id);
    expect(after.triggerWords).toEqual(['folded paper']);
    expect(after.metadata['sidecar.preferredWeight']).toBe('0.5');
    expect(after.preview).toBe(join(loraDir, 'paper.preview.png'));
    expect(inspected).toHaveLength(1);
  });
});
