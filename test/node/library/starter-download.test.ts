/** First-run files: the catalogue's facts, and download → models folder → library against a server on 127.0.0.1. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database';
import { LibraryService } from '../../../src/main/services/library-service';
import { downloadStarterFile } from '../../../src/main/services/starter-download';
import { STARTER_FILES, starterProgress, type StarterFile } from '../../../src/shared/domain/starter-files';
import { LORA_KOHYA, tempDataDir } from '../store/helpers';

describe('starter files', () => {
  let server: Server;
  let base: string;
  const body = readFileSync(LORA_KOHYA);
  beforeAll(async () => {
    server = createServer((req, res) => (req.url?.endsWith('/tiny_lora.safetensors') ? res.writeHead(200, { 'Content-Length': body.length }).end(body) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists the SD1.5 checkpoint, the T2V pair (required) and the I2V pair (optional), from the authors\' repositories', () => {
    expect(STARTER_FILES.filter((f) => !f.optional).map((f) => f.fileName)).toEqual(['(your choice)', 'AnimateLCM_sd15_t2v.ckpt', 'AnimateLCM_sd15_t2v_lora.safetensors']);
    expect(STARTER_FILES.filter((f) => f.optional).map((f) => f.fileName)).toEqual(['AnimateLCM_sd15_i2v.ckpt', 'AnimateLCM_sd15_i2v_lora.safetensors']);
    for (const f of STARTER_FILES.filter((x) => x.url)) {
      expect(f.url).toMatch(/^https:\/\/huggingface\.co\/wangfuyun\/AnimateLCM(-I2V)?\/resolve\/main\//);
      expect(f.url!.endsWith(`/${f.fileName}`)).toBe(true);
      expect(f.sha256 ?? '').toMatch(/^([0-9a-f]{64})?$/);
    }
  });

  it('gives every downloadable file a size the creator can read, and files with one SHA-256 one byte count', () => {
    for (const f of STARTER_FILES.filter((x) => x.url)) {
      expect(f.sizeLabel).not.toMatch(/unknown/i);
      if (f.sizeBytes === null) expect(f.sizeLabel).toMatch(/shown after download/);
      const twin = STARTER_FILES.find((g) => g !== f && g.sha256 !== null && g.sha256 === f.sha256);
      if (twin) expect(f.sizeBytes).toBe(twin.sizeBytes);
    }
  });

  it('the Getting-started card is done when a usable checkpoint and the T2V pair (by published hash) are in the library', () => {
    const item = (kind: 'checkpoint' | 'motion' | 'lora', path: string, sha256: string, supported = true) => ({ kind, path, sha256, supported });
    const [motion, lora] = ['animatelcm-t2v-motion', 'animatelcm-t2v-lora'].map((id) => STARTER_FILES.find((f) => f.id === id)!);
    const empty = starterProgress([]);
    expect(empty).toMatchObject({ requiredDone: false, required: { done: 0, of: 3 }, optional: { done: 0, of: 2 } });
    // A file with the right name but other bytes is not the file; a checkpoint that cannot run is no checkpoint.
    const impostors = [item('motion', `/m/${motion.fileName}`, 'f'.repeat(64)), item('checkpoint', '/m/unet-only.safetensors', 'e'.repeat(64), false)];
    expect(starterProgress(impostors).required.done).toBe(0);
    const all = [item('checkpoint', '/m/dreamshaper.safetensors', 'a'.repeat(64)), item('motion', '/x/renamed.ckpt', motion.sha256!), item('lora', '/x/lcm.safetensors', lora.sha256!)];
    const done = starterProgress(all);
    expect(done).toMatchObject({ requiredDone: true, required: { done: 3, of: 3 } });
    // The I2V LoRA is the same object as the T2V LoRA (one published SHA-256), so it counts as there too.
    expect(done.optional.done).toBe(1);
    expect([...done.present].sort()).toEqual(['animatelcm-i2v-lora', 'animatelcm-t2v-lora', 'animatelcm-t2v-motion', 'sd15-checkpoint']);
  });

  it('downloads into the models folder, checks the hash and imports it; a wrong hash imports nothing', async () => {
    const { dir, cleanup } = tempDataDir('starter-');
    const db = openDatabase(join(dir, 'data'));
    try {
      const library = new LibraryService(db);
      const file: StarterFile = {
        ...STARTER_FILES[2],
        fileName: 'tiny_lora.safetensors',
        url: 'https://huggingface.co/test/resolve/main/tiny_lora.safetensors',
        sha256: createHash('sha256').update(body).digest('hex'),
      };
      const res = await downloadStarterFile(file, join(dir, 'models'), library, { baseUrl: base });
      expect(res.item).toMatchObject({ kind: 'lora', path: join(dir, 'models', 'tiny_lora.safetensors'), sha256: file.sha256 });
      const bad = await downloadStarterFile({ ...file, fileName: 'other.safetensors', sha256: '0'.repeat(64) }, join(dir, 'other'), library, { baseUrl: base }).catch((e: Error) => e);
      expect((bad as { code?: string }).code).toBe('HASH_MISMATCH');
      expect((await library.list()).length).toBe(1);
    } finally {
      db.close();
      cleanup();
    }
  });
});
