import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../cli-in-process';
import type { ModelFolder } from '../../../src/shared/domain/library';
import { FIXTURES, LORA_KOHYA, MOTION_MODULE, tempDataDir } from '../store/helpers';

interface Listed {
  kind: string;
  family: string;
  completeness: string;
  triggerWords: string[];
  previewPath: string | null;
  availability: string;
  source: { type: string; folder?: string; layout?: string };
}

describe('CLI: library add-folder, folders, list --json', () => {
  let dir: string;
  let cleanup: () => void;
  let data: string;
  beforeEach(() => {
    ({ dir, cleanup } = tempDataDir('cli-folders-'));
    data = join(dir, 'data');
  });
  afterEach(() => cleanup());

  it('indexes a ComfyUI root in place and lists each item with kind, family, completeness, triggers, preview and source', async () => {
    const root = join(dir, 'ComfyUI');
    for (const [sub, from] of [
      ['models/loras/kohya.safetensors', LORA_KOHYA],
      ['models/animatediff_models/mm.safetensors', MOTION_MODULE],
      ['models/animatediff_motion_lora/zoom.safetensors', join(FIXTURES, 'lora_motion', 'motion_lora.safetensors')],
      ['models/embeddings/EasyNegative.safetensors', join(FIXTURES, 'textual_inversion', 'EasyNegative.safetensors')],
    ] as const) {
      mkdirSync(join(root, sub, '..'), { recursive: true });
      copyFileSync(from, join(root, sub));
    }
    const add = await cli('library', 'add-folder', root, '--layout', 'comfyui', '--json', '--data-dir', data);
    expect(add.code).toBe(0);
    const added = JSON.parse(add.out) as { folder: ModelFolder; notes: unknown[] };
    expect(added.folder).toMatchObject({ path: root, layout: 'comfyui', status: 'ok', files: 4, done: 4, pending: 0 });
    expect(add.err).toMatch(/hashing \d\/4/);

    const list = JSON.parse((await cli('library', 'list', '--json', '--data-dir', data)).out) as Listed[];
    expect(list.map((i) => i.kind).sort()).toEqual(['embedding', 'lora', 'motion', 'motion-lora']);
    for (const i of list) {
      expect(i.source).toEqual({ type: 'folder', folderId: added.folder.id, folder: root, layout: 'comfyui' });
      expect(i.completeness).toBe('usable');
      expect(Array.isArray(i.triggerWords)).toBe(true);
      expect(i).toHaveProperty('previewPath');
      expect(i).toHaveProperty('family');
    }

    const folders = await cli('library', 'folders', '--data-dir', data);
    expect(folders.out).toMatch(/comfyui\s+indexed\s+4 file\(s\), 4 in the library/);

    // The drive goes away: refresh shows its items offline, not missing, and the folder offline; then back.
    renameSync(root, join(dir, 'away'));
    expect((await cli('library', 'refresh', '--data-dir', data)).code).toBe(0);
    expect((JSON.parse((await cli('library', 'list', '--json', '--data-dir', data)).out) as Listed[]).map((i) => i.availability)).toEqual(Array(4).fill('offline'));
    expect(JSON.parse((await cli('library', 'folders', '--json', '--data-dir', data)).out)).toMatchObject([{ status: 'offline', files: 4 }]);
    expect((await cli('library', 'folders', '--data-dir', data)).out).toMatch(/OFFLINE/);
    renameSync(join(dir, 'away'), root);
    await cli('library', 'refresh', '--data-dir', data);
    expect((JSON.parse((await cli('library', 'list', '--json', '--data-dir', data)).out) as Listed[]).map((i) => i.availability)).toEqual(Array(4).fill('ok'));
  });

  it('refuses a missing folder and an unknown layout with the reason', async () => {
    const missing = await cli('library', 'add-folder', join(dir, 'nope'), '--data-dir', data);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/does not exist/);
    const bad = await cli('library', 'add-folder', dir, '--layout', 'invoke', '--data-dir', data);
    expect(bad.err).toMatch(/--layout must be one of a1111, comfyui, plain/);
  });
});
