/**
 * Bad input in a creator's model folder, beyond what sidecars.test.ts covers: sidecars saved with a byte-order mark
 * (read), a folder, a pipe, a dangling link or a symlink loop under a sidecar's name, model links that loop or lead
 * nowhere, and a thumbnail inside a model's metadata that is not an image. Each is skipped with a note that says
 * why; the folder's other models are indexed.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { LibraryService } from '../../../src/main/services/library-service';
import { ModelFolderService } from '../../../src/main/services/model-folders';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';
import { LORA_KOHYA, tempDataDir } from '../store/helpers';

describe('bad input in model folders', () => {
  let dir: string;
  let cleanup: () => void;
  let db: StudioDatabase;
  let lib: LibraryService;
  let folders: ModelFolderService;
  let loras: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('bad-input-'));
    db = openDatabase(join(dir, 'data'));
    lib = new LibraryService(db);
    folders = new ModelFolderService(db, lib);
    loras = join(dir, 'webui', 'models', 'Lora');
    mkdirSync(loras, { recursive: true });
  });
  afterEach(async () => {
    await folders.close();
    db.close();
    cleanup();
  });

  const notesByFile = () => Object.fromEntries(folders.notes().map((n) => [n.path.split('/').pop(), n.note]));

  it('reads a sidecar saved with a byte-order mark; a folder, a pipe, a dangling link or a loop named like a sidecar is skipped with the reason', async () => {
    copyFileSync(LORA_KOHYA, join(loras, 'bom.safetensors'));
    writeFileSync(join(loras, 'bom.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ 'activation text': 'notepad words' }))]));
    copyFileSync(LORA_KOHYA, join(loras, 'odd.safetensors'));
    mkdirSync(join(loras, 'odd.json'));
    execFileSync('mkfifo', [join(loras, 'odd.civitai.info')]);
    symlinkSync(join(loras, 'gone.png'), join(loras, 'odd.preview.png'));
    symlinkSync(join(loras, 'odd.preview.webp'), join(loras, 'odd.preview.webp'));
    await folders.addFolder(join(dir, 'webui'), 'a1111');
    await folders.hashPending();

    const items = await lib.listLoras();
    // Both files hold the same bytes: one item, its words from the readable sidecar (indexed first, by name).
    expect(items.map((i) => i.triggerWords)).toEqual([['notepad words']]);
    const notes = notesByFile();
    expect(notes['bom.safetensors']).toBeUndefined();
    expect(notes['odd.safetensors']).toMatch(/odd\.json was skipped: it is a folder/);
    expect(notes['odd.safetensors']).toMatch(/odd\.civitai\.info was skipped: it is not a regular file/);
    expect(notes['odd.safetensors']).toMatch(/odd\.preview\.png was skipped: it is a link to a file that is not there/);
    expect(notes['odd.safetensors']).toMatch(/odd\.preview\.webp was skipped: it is a link that leads back to itself/);
    expect(folders.listFolders()[0]).toMatchObject({ files: 2, done: 2, failed: 0 });
  });

  it('model links that loop or lead nowhere are noted on the folder; the other models are indexed', async () => {
    copyFileSync(LORA_KOHYA, join(loras, 'real.safetensors'));
    symlinkSync(join(loras, 'loop.safetensors'), join(loras, 'loop.safetensors'));
    symlinkSync(join(dir, 'deleted.safetensors'), join(loras, 'dangling.safetensors'));
    const scan = await folders.addFolder(join(dir, 'webui'), 'a1111');
    await folders.hashPending();
    expect((await lib.listLoras()).map((i) => i.path)).toEqual([join(loras, 'real.safetensors')]);
    expect(scan.folder.note).toMatch(/models\/Lora\/loop\.safetensors: a link that leads back to itself/);
    expect(scan.folder.note).toMatch(/models\/Lora\/dangling\.safetensors: a link to a file that is not there/);
  });

  it('a thumbnail in the metadata that is not an image is not shown, and the item says so', async () => {
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    const tensors = [{ name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', dtype: 'F32' as const, shape: [4, 8], data: new Float32Array(32).fill(0.1) }];
    writeSafetensors(join(loras, 'fake-thumb.safetensors'), [
      ...tensors,
      { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', dtype: 'F32', shape: [8, 4], data: new Float32Array(32).fill(0.1) },
    ], { 'modelspec.thumbnail': `data:image/png;base64,${html}`, 'modelspec.title': 'Fake thumb' });
    const { item } = await lib.importFile(join(loras, 'fake-thumb.safetensors'));
    expect(item.preview).toBeNull();
    expect(item.metadata['thumbnail.skipped']).toMatch(/not a PNG, JPEG or WebP image/);
  });
});
