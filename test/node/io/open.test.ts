import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/shared/errors';
import { openCkpt } from '../../../src/main/compiler/io/ckpt';
import { openModel } from '../../../src/main/compiler/io/open';
import { openSafetensors } from '../../../src/main/compiler/io/safetensors';
import { canonicalize } from '../../../src/main/compiler/names/canonicalize';
import { tempDir, writeFile } from './helpers';

const REF = 'test/fixtures/reference';
const { dir, cleanup } = tempDir('open');
afterAll(cleanup);

function error(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isStudioError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('openModel sniffs by content, not extension', () => {
  it('reads a .ckpt renamed .safetensors, and says what it really is', () => {
    const p = join(dir, 'motion.safetensors');
    copyFileSync('test/fixtures/ckpt/motion_module_animatediff.ckpt', p);
    const t = openModel(p);
    expect(t.container).toBe('ckpt');
    expect(t.notes.join(' ')).toMatch(/really a PyTorch checkpoint/);
    expect(t.names().length).toBe(196);
  });

  it('reads a .safetensors renamed .ckpt, and says so', () => {
    const p = join(dir, 'unet.ckpt');
    copyFileSync(`${REF}/unet2d/weights.safetensors`, p);
    const t = openModel(p);
    expect(t.container).toBe('safetensors');
    expect(t.notes.join(' ')).toMatch(/really a \.safetensors file/);
  });

  it('gives clear errors for empty, truncated, pointer, web-page, legacy and unknown files', () => {
    expect(error(() => openModel(writeFile(dir, 'empty.safetensors', '')))).toMatchObject({ code: 'FILE_EMPTY' });
    const st = readFileSync(`${REF}/vae/weights.safetensors`);
    expect(error(() => openModel(writeFile(dir, 'cut.safetensors', st.subarray(0, st.length - 100)))).code).toBe('FILE_TRUNCATED');
    expect(error(() => openModel(writeFile(dir, 'cut-header.safetensors', st.subarray(0, 200)))).code).toBe('FILE_TRUNCATED');
    expect(error(() => openModel(writeFile(dir, 'tiny.safetensors', st.subarray(0, 5)))).code).toBe('FILE_TRUNCATED');
    expect(error(() => openModel(writeFile(dir, 'ptr.safetensors', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n'))).message).toMatch(/Git LFS pointer/);
    expect(error(() => openModel(writeFile(dir, 'page.ckpt', '<!DOCTYPE html><html><body>Log in</body></html>'))).message).toMatch(/web page/);
    expect(error(() => openModel('test/fixtures/ckpt/legacy.pt')).code).toBe('CKPT_LEGACY');
    const junk = error(() => openModel(writeFile(dir, 'junk.safetensors', Buffer.from('this is not a model at all, just text'))));
    expect(junk.code).toBe('FORMAT_UNKNOWN');
    expect(junk.message).toMatch(/named a \.safetensors file but its contents are not one/);
    expect(error(() => openModel(join(dir, 'nope.safetensors'))).code).toBe('FILE_NOT_FOUND');
    expect(error(() => openModel(join(dir)))).toMatchObject({ code: 'FORMAT_UNKNOWN' });
  });

  it('opens a diffusers pipeline folder with component prefixes and configs', () => {
    const root = join(dir, 'pipeline');
    const parts: Array<[string, string]> = [['unet', 'unet2d'], ['vae', 'vae'], ['text_encoder', 'clip_text']];
    mkdirSync(root);
    writeFile(root, 'model_index.json', JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
    for (const [folder, ref] of parts) {
      mkdirSync(join(root, folder));
      copyFileSync(`${REF}/${ref}/weights.safetensors`, join(root, folder, folder === 'text_encoder' ? 'model.safetensors' : 'diffusion_pytorch_model.safetensors'));
      copyFileSync(`${REF}/${ref}/config.json`, join(root, folder, 'config.json'));
    }
    mkdirSync(join(root, 'tokenizer'));
    const t = openModel(root);
    expect(t.container).toBe('diffusers-folder');
    expect(t.names().some((n) => n.startsWith('unet.conv_in.'))).toBe(true);
    expect(t.names().some((n) => n.startsWith('vae.encoder.'))).toBe(true);
    expect(t.names().some((n) => n.startsWith('text_encoder.text_model.'))).toBe(true);
    expect(JSON.parse(t.metadata['unet.config']).block_out_channels).toEqual([32, 64]);
    const c = canonicalize(t);
    expect(c.layout).toBe('diffusers-folder');
    expect(c.unmatched).toEqual([]);
    for (const [folder, ref] of parts) {
      const comp = (c.components as Record<string, { names(): string[]; get(n: string): { readRaw(): Uint8Array } | undefined }>)[folder];
      const direct = canonicalize(openModel(`${REF}/${ref}/weights.safetensors`));
      const want = Object.values(direct.components)[0]!;
      expect(comp.names().sort()).toEqual(want.names().sort());
      for (const n of want.names()) expect(Buffer.from(comp.get(n)!.readRaw()).equals(Buffer.from(want.get(n)!.readRaw()))).toBe(true);
    }
    t.close();
  });

  it('opens a single component folder (MotionAdapter: config.json + diffusion_pytorch_model.safetensors)', () => {
    const root = join(dir, 'adapter');
    mkdirSync(root);
    copyFileSync(`${REF}/unet_motion/motion_adapter.safetensors`, join(root, 'diffusion_pytorch_model.safetensors'));
    copyFileSync(`${REF}/unet_motion/motion_adapter_config.json`, join(root, 'config.json'));
    const t = openModel(root);
    expect(t.names().every((n) => n.startsWith('motion_adapter.'))).toBe(true);
    const c = canonicalize(t);
    expect(c.unmatched).toEqual([]);
    expect(c.components.motion!.names().length).toBe(182);
  });
});

describe('format-specific readers name the real format of a misnamed file', () => {
  it('openSafetensors on a checkpoint and openCkpt on a safetensors file say FORMAT_MISMATCH', () => {
    const a = error(() => openSafetensors('test/fixtures/ckpt/tiny.ckpt'));
    expect(a.code).toBe('FORMAT_MISMATCH');
    expect(a.message).toMatch(/really a PyTorch checkpoint/);
    const b = error(() => openCkpt(`${REF}/vae/weights.safetensors`));
    expect(b.code).toBe('FORMAT_MISMATCH');
    expect(b.message).toMatch(/really a \.safetensors file/);
  });
});
