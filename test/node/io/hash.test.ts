import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { hashModelFile } from '../../../src/main/compiler/io/hash';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { tempDir } from './helpers';

const { dir, cleanup } = tempDir('hash');
afterAll(cleanup);

/** Independent full-file digest: the system's sha256sum when present, else Node's one-shot hash of the whole buffer. */
function sha256sum(path: string): string {
  try {
    return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(/\s+/)[0].toUpperCase();
  } catch {
    return createHash('sha256').update(readFileSync(path)).digest('hex').toUpperCase();
  }
}

/** Tensor-data digest computed the way A1111/kohya describe it: everything after 8 + header length. */
function dataSha(path: string): string {
  const b = readFileSync(path);
  return createHash('sha256').update(b.subarray(8 + Number(b.readBigUInt64LE(0)))).digest('hex').toUpperCase();
}

describe('hashModelFile', () => {
  it.each(['test/fixtures/reference/lora/lora_kohya.safetensors', 'test/fixtures/reference/unet2d/weights_ldm.safetensors'])('matches sha256sum and the tensor-data hash for %s', async (p) => {
    const h = await hashModelFile(p);
    expect(h.sha256).toBe(sha256sum(p));
    expect(h.autov2).toBe(h.sha256.slice(0, 10));
    expect(h.dataSha256).toBe(dataSha(p));
    expect(h.autov3).toBe(dataSha(p).slice(0, 12));
  });

  it('has no AutoV3 for a .ckpt', async () => {
    const p = 'test/fixtures/ckpt/tiny.ckpt';
    const h = await hashModelFile(p);
    expect(h.sha256).toBe(sha256sum(p));
    expect(h.autov3).toBeUndefined();
  });

  it('streams files larger than one read chunk, with the header ending past the first chunk', async () => {
    const p = `${dir}/big.safetensors`;
    const data = new Float32Array(3 * 1024 * 1024 + 17);
    randomFillSync(data);
    writeSafetensors(p, [{ name: 'x', dtype: 'F32', shape: [data.length], data }], { note: 'a'.repeat(4_500_000) });
    const h = await hashModelFile(p);
    expect(h.sha256).toBe(sha256sum(p));
    expect(h.dataSha256).toBe(dataSha(p));
    // Editing metadata changes AutoV2 but not AutoV3.
    const q = `${dir}/big2.safetensors`;
    writeSafetensors(q, [{ name: 'x', dtype: 'F32', shape: [data.length], data }], { note: 'b' });
    const h2 = await hashModelFile(q);
    expect(h2.autov2).not.toBe(h.autov2);
    expect(h2.autov3).toBe(h.autov3);
  });
});
