/**
 * Model folders through the API (the same services both transports use, with the real engine worker hashing) and
 * the media rule: preview images are served from registered model folders only, never from any other path.
 */
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invokeApi } from '../../../src/main/services/studio-services';
import type { FolderProgressEvent } from '../../../src/shared/api';
import type { LibraryItem, ModelFolder } from '../../../src/shared/domain/library';
import { startWebStudio, until, type WebStudio } from '../web/web-studio';
import { LORA_KOHYA } from '../store/helpers';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

function status(studio: WebStudio, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: studio.server.port, path: `/media/${encodeURIComponent(file)}?token=${studio.server.token}` }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function call<T>(studio: WebStudio, method: string, args: unknown[]): Promise<T> {
  const r = await invokeApi(studio.services, method, args);
  if (!r.ok) throw new Error(JSON.stringify(r));
  return (r as { ok: true; value: T }).value;
}

describe('model folders through the API', () => {
  let studio: WebStudio;
  let models: string;
  const progress: FolderProgressEvent[] = [];

  beforeAll(async () => {
    studio = await startWebStudio('animatelcm-folders-api-', ({ root }) => {
      models = join(root, 'models');
      mkdirSync(join(models, 'loras'), { recursive: true });
      copyFileSync(LORA_KOHYA, join(models, 'loras', 'kohya.safetensors'));
      writeFileSync(join(models, 'loras', 'kohya.preview.png'), PNG);
      writeFileSync(join(models, 'loras', 'notes.txt'), 'text');
      mkdirSync(join(root, 'private'));
      writeFileSync(join(root, 'private', 'secret.png'), PNG);
      symlinkSync(join(root, 'private', 'secret.png'), join(models, 'loras', 'link.png'));
    });
    studio.services.subscribe((event, payload) => {
      if (event === 'onFolderProgress') progress.push(payload as FolderProgressEvent);
    });
  });
  afterAll(() => studio.close());

  it('adds a folder, hashes it in the background with progress, and lists its items and status', async () => {
    const before = await status(studio, join(models, 'loras', 'kohya.preview.png'));
    expect(before).toBe(404);
    const folder = await call<ModelFolder>(studio, 'addModelFolder', [models, 'plain']);
    expect(folder).toMatchObject({ path: models, layout: 'plain', status: 'ok', files: 1 });
    await until(() => progress.some((p) => p.done === p.total && p.folderId === folder.id), 60_000);
    const [listed] = await call<ModelFolder[]>(studio, 'listModelFolders', []);
    expect(listed).toMatchObject({ files: 1, done: 1, pending: 0 });
    const loras = await call<LibraryItem[]>(studio, 'listLoras', []);
    expect(loras.map((l) => [l.path, l.folderId])).toEqual([[join(models, 'loras', 'kohya.safetensors'), folder.id]]);
    expect((await invokeApi(studio.services, 'addModelFolder', [models, 'invoke'])).ok).toBe(false);
  }, 90_000);

  it('serves images inside registered folders only: not their other files, not links out, not other folders', async () => {
    expect(await status(studio, join(models, 'loras', 'kohya.preview.png'))).toBe(200);
    expect(await status(studio, join(models, 'loras', 'notes.txt'))).toBe(404);
    expect(await status(studio, join(models, 'loras', 'link.png'))).toBe(404);
    expect(await status(studio, join(studio.root, 'private', 'secret.png'))).toBe(404);
    expect(await status(studio, `${models}/../private/secret.png`)).toBe(404);
    // Forgotten folder: its files are no longer servable.
    await call(studio, 'removeModelFolder', [1]);
    expect(await status(studio, join(models, 'loras', 'kohya.preview.png'))).toBe(404);
    expect(await call<ModelFolder[]>(studio, 'listModelFolders', [])).toEqual([]);
  });
});
