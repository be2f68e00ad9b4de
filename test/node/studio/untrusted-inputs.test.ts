/**
 * Files that are not models, given wherever the API or the CLI takes a weight-file path (checkpoint, motion module,
 * LoRA, AnimateLCM LoRA) or uploaded for import: each is refused with a typed error that names the creator's own
 * path and quotes nothing of the file, and nothing of the file reaches the history.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationParams } from '../../../src/shared/domain/generation';
import type { GenerationPage } from '../../../src/shared/domain/history';
import type { SerializedError } from '../../../src/shared/errors';
import { encodePng } from '../../../src/main/formats/png';
import { createStudioServices, invokeApi, type StudioServices } from '../../../src/main/services/studio-services';
import { openDatabase } from '../../../src/main/store/database';
import { cli } from '../cli-in-process';
import { tinyParams } from '../generation/helpers';
import { writeStarterFiles } from '../pipeline/starter-files';

interface Hostile {
  name: string;
  bytes: Buffer;
  /** Strings that would show the file's contents if they appeared in a message, details or the history. */
  secrets: string[];
}

/** The decimal value of the first 8 bytes as a little-endian u64: what "its header claims N bytes" printed. */
const u64 = (b: Buffer): string => b.readBigUInt64LE(0).toString();

function seededBytes(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function hostileFiles(): Hostile[] {
  const passwd = Buffer.from('root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nshadowsecret:$6$saltsalt$hash\n');
  const text = Buffer.from('Dear diary, my bank PIN is 4711 and the wifi password is correcthorsebattery.\n');
  const random = seededBytes(4096, 7);
  const png = encodePng(new Uint8Array(4 * 4 * 3).fill(200), 4, 4);
  // Looks like safetensors (small length, then "{"), but the "header" is private text, not JSON.
  const fakeJson = Buffer.from('{password: "hunter2-topsecret", note: "not json at all"}');
  const fake = Buffer.concat([Buffer.alloc(8), fakeJson]);
  fake.writeBigUInt64LE(BigInt(fakeJson.length));
  return [
    { name: 'passwd', bytes: passwd, secrets: [u64(passwd), 'root:x', 'shadowsecret', '/bin/bash'] },
    { name: 'notes.txt', bytes: text, secrets: [u64(text), 'Dear diary', '4711', 'correcthorse'] },
    { name: 'random.bin', bytes: random, secrets: [u64(random)] },
    { name: 'picture.png', bytes: png, secrets: [u64(png), 'IHDR'] },
    { name: 'private.safetensors', bytes: fake, secrets: ['hunter2', 'topsecret', 'not json'] },
  ];
}

let root: string;
let files: Array<Hostile & { path: string }>;
let starter: { model: string; motion: string };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'untrusted-inputs-'));
  mkdirSync(join(root, 'in'));
  files = hostileFiles().map((h) => {
    const path = join(root, 'in', h.name);
    writeFileSync(path, h.bytes);
    return { ...h, path };
  });
  starter = writeStarterFiles(join(root, 'in'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every way one path can be handed to a generation. */
function roles(path: string): Array<{ role: string; params: Partial<GenerationParams>; args: string[] }> {
  return [
    { role: 'model', params: { model: path }, args: ['--model', path] },
    { role: 'motion', params: { model: starter.model, motion: path }, args: ['--model', starter.model, '--motion', path] },
    { role: 'lora', params: { loras: [{ path, weight: 1 }] }, args: ['--lora', `${path}:1`] },
    { role: 'lcm-lora', params: { lcmLora: { path, weight: 0.8 } }, args: ['--lcm-lora', `${path}:0.8`] },
  ];
}

function expectClean(error: SerializedError, file: Hostile & { path: string }, where: string): void {
  expect(error.code, where).not.toBe('INTERNAL');
  expect(error.message, where).toContain(file.path);
  const wire = JSON.stringify(error);
  for (const s of file.secrets) expect(wire, `${where}: quotes "${s}"`).not.toContain(s);
}

/** Everything the history holds, as text. */
function historyText(dataDir: string): string {
  if (!existsSync(join(dataDir, 'studio.db'))) return '[]';
  const db = openDatabase(dataDir, { readonly: true });
  try {
    return JSON.stringify(db.sqlite.prepare('SELECT * FROM generations').all());
  } finally {
    db.close();
  }
}

describe('non-model files given as weight paths', () => {
  let services: StudioServices;
  let dataDir: string;
  beforeAll(() => {
    dataDir = join(root, 'api-data');
    services = createStudioServices({ dataDir, mode: 'web' });
  });
  afterAll(async () => {
    await services.close();
  });

  it('the API refuses each one with a typed error naming the path, quoting nothing, recording nothing', async () => {
    for (const file of files) {
      for (const r of roles(file.path)) {
        const where = `${file.name} as ${r.role}`;
        const res = await invokeApi(services, 'generate', [tinyParams(r.params)]);
        if (res.ok) {
          // Accepted into the queue: then it must fail cleanly in the worker.
          const jobId = (res.value as { jobId: string }).jobId;
          const view = await (services as unknown as { opened: { generation: { settled(id: string): Promise<{ error: SerializedError | null }> } } }).opened.generation.settled(jobId);
          expect(view.error, where).not.toBeNull();
          expectClean(view.error!, file, where);
        } else {
          expectClean(res.error, file, where);
        }
      }
    }
    // Files the sniffer refuses are never recorded; one that looks like safetensors fails in the worker, and its
    // record holds the typed message only.
    const page = (await invokeApi(services, 'listGenerations', [{}])) as { ok: true; value: GenerationPage };
    expect(page.value.items.every((g) => g.status === 'failed')).toBe(true);
    const stored = historyText(dataDir);
    for (const file of files) {
      if (!file.name.endsWith('.safetensors')) expect(stored).not.toContain(file.path);
      for (const s of file.secrets) expect(stored).not.toContain(s);
    }
  }, 300_000);

  it('an uploaded non-model file is refused under the name it was uploaded with, not the upload folder', async () => {
    for (const file of files) {
      const { uploadId } = await services.beginUpload(file.name, file.bytes.length);
      await services.uploadChunk(uploadId, 0, file.bytes.toString('base64'));
      const res = await invokeApi(services, 'finishUpload', [uploadId]);
      expect(res.ok, file.name).toBe(false);
      if (res.ok) continue;
      const wire = JSON.stringify(res.error);
      expect(res.error.message, file.name).toContain(file.name);
      expect(wire, file.name).not.toContain('uploads');
      expect(wire, file.name).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
      for (const s of file.secrets) expect(wire, `${file.name}: quotes "${s}"`).not.toContain(s);
    }
    expect(readdirSync(join(dataDir, 'uploads'))).toEqual([]);
  });
});

describe('npm run cli -- generate with non-model files', () => {
  it('refuses each one with a typed error naming the path, quoting nothing, recording nothing', async () => {
    const dataDir = join(root, 'cli-data');
    for (const file of files) {
      for (const r of roles(file.path)) {
        const where = `${file.name} as --${r.role}`;
        const out = join(root, 'out', `${file.name}-${r.role}`);
        const res = await cli('generate', '--prompt', 'x', '--width', '64', '--height', '64', '--frames', '2', '--steps', '1', ...r.args, '--out', out, '--data-dir', dataDir, '--json');
        expect(res.code, where).not.toBe(0);
        const { error } = JSON.parse(res.out) as { error: SerializedError };
        expectClean(error, file, where);
        for (const s of file.secrets) expect(res.err, `${where}: stderr quotes "${s}"`).not.toContain(s);
      }
    }
    const stored = historyText(dataDir);
    for (const file of files) {
      if (!file.name.endsWith('.safetensors')) expect(stored).not.toContain(file.path);
      for (const s of file.secrets) expect(stored).not.toContain(s);
    }
  }, 600_000);
});
