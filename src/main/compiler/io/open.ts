import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { isLegacyTorch, legacyTorchError, openCkpt } from './ckpt';
import { FileRange } from './file-range';
import { openSafetensors, SAFETENSORS_LIMITS } from './safetensors';
import type { TensorTable, TensorView } from './tensor';

/**
 * One entry point for every model a creator can point the studio at. The format is decided by the bytes, never
 * the extension: files get renamed on the way from model sites (.ckpt saved as .safetensors and back), and a
 * misnamed file is still read — with a note saying what it really is.
 */
export interface OpenedModel extends TensorTable {
  /** What the sniffer noticed that the creator may want to know (e.g. a misleading extension). */
  readonly notes: string[];
}

export type SniffedFormat = 'safetensors' | 'ckpt' | 'ckpt-legacy' | 'empty' | 'lfs-pointer' | 'html' | 'gguf' | 'unknown';

/** Decide a file's container from its first bytes and size. */
export function sniffBytes(head: Uint8Array, size: number): SniffedFormat {
  if (size === 0) return 'empty';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return 'ckpt';
  if (head.length >= 9 && head[8] === 0x7b) {
    const n = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true);
    // The length may exceed the file (a truncated download): still safetensors, and its reader says so.
    if (n >= 2n && n <= BigInt(SAFETENSORS_LIMITS.maxHeaderBytes)) return 'safetensors';
    // Over the limit yet inside the file: a safetensors file with an oversized header, refused by its reader with
    // the limit named (8 bytes of a text file or random data never make a length that fits the file).
    if (n > BigInt(SAFETENSORS_LIMITS.maxHeaderBytes) && n <= BigInt(size) - 8n) return 'safetensors';
  }
  if (isLegacyTorch(head)) return 'ckpt-legacy';
  const text = new TextDecoder('latin1').decode(head.subarray(0, 64)).trimStart().toLowerCase();
  if (text.startsWith('version https://git-lfs')) return 'lfs-pointer';
  if (text.startsWith('<!doctype') || text.startsWith('<html')) return 'html';
  if (text.startsWith('gguf')) return 'gguf';
  return 'unknown';
}

const EXT_FORMAT: Record<string, SniffedFormat> = {
  '.safetensors': 'safetensors', '.ckpt': 'ckpt', '.pt': 'ckpt', '.pth': 'ckpt', '.bin': 'ckpt',
};

const WHAT: Record<SniffedFormat, string> = {
  safetensors: 'a .safetensors file',
  ckpt: 'a PyTorch checkpoint (.ckpt)',
  'ckpt-legacy': 'an old-style PyTorch file',
  empty: 'an empty file',
  'lfs-pointer': 'a Git LFS pointer',
  html: 'a web page',
  gguf: 'a GGUF file',
  unknown: 'an unknown file',
};

function withNotes(table: TensorTable, notes: string[]): OpenedModel {
  return Object.assign(table, { notes }) as OpenedModel;
}

/** What `sniffModelFile` found: a container a reader exists for, and notes for the creator. */
export interface SniffedModel {
  format: 'safetensors' | 'ckpt' | 'folder';
  notes: string[];
}

/**
 * The gate every weight-file path passes before any parser sees it (import, generation, CLI): the container is
 * decided from the first 64 bytes, and anything that is not one the studio reads is refused here with an error
 * that says what the file is — never what it contains, so a private file given by mistake is not quoted back.
 */
export function sniffModelFile(path: string): SniffedModel {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new StudioError('FILE_NOT_FOUND', `There is no file or folder at ${path}.`, { path });
  }
  if (st.isDirectory()) return { format: 'folder', notes: [] };
  const file = new FileRange(path);
  let head: Uint8Array;
  try {
    head = file.read(0, Math.min(file.size, 64));
  } finally {
    file.close();
  }
  const format = sniffBytes(head, st.size);
  const claimed = EXT_FORMAT[extname(path).toLowerCase()];
  const notes: string[] = [];
  if (claimed && claimed !== format && (format === 'safetensors' || format === 'ckpt')) {
    notes.push(`${basename(path)} is named like ${WHAT[claimed]} but is really ${WHAT[format]}; it is read as what it is. Renaming it to ${format === 'ckpt' ? '.ckpt' : '.safetensors'} avoids confusing other tools.`);
  }
  switch (format) {
    case 'safetensors':
    case 'ckpt':
      return { format, notes };
    case 'ckpt-legacy':
      throw legacyTorchError(path);
    case 'empty':
      throw new StudioError('FILE_EMPTY', `${path} is empty (0 bytes). The download probably failed; download it again.`, { path });
    case 'lfs-pointer':
      throw new StudioError('FORMAT_UNKNOWN', `${path} is a Git LFS pointer (a small text placeholder), not the model itself. Download the real file (on Hugging Face: the "download" button, not "raw").`, { path, format });
    case 'html':
      throw new StudioError('FORMAT_UNKNOWN', `${path} is a web page, not a model: the site probably asked you to log in or accept a licence. Download the model again from its page.`, { path, format });
    case 'gguf':
      throw new StudioError('FORMAT_UNKNOWN', `${path} is a GGUF file (a quantised format for other tools). The studio reads .safetensors and .ckpt SD1.5 models.`, { path, format });
    case 'unknown': {
      const said = claimed ? ` It is named ${WHAT[claimed]} but its contents are not one.` : '';
      const truncated = claimed === 'safetensors' && st.size < 9;
      if (truncated) throw new StudioError('FILE_TRUNCATED', `${path} is only ${st.size} bytes: the download is incomplete. Download it again.`, { path });
      throw new StudioError('FORMAT_UNKNOWN', `${path} is not a model file the studio can read.${said} The studio reads .safetensors, PyTorch .ckpt/.pt and diffusers folders.`, { path, format });
    }
  }
}

export function openModel(path: string): OpenedModel {
  const { format, notes } = sniffModelFile(path);
  if (format === 'folder') return openDiffusersFolder(path);
  return withNotes(format === 'safetensors' ? openSafetensors(path) : openCkpt(path), notes);
}

/** A diffusers component folder's weights: the first of these that exists (fp32 before fp16, safetensors first). */
const WEIGHT_FILES = [
  'diffusion_pytorch_model.safetensors', 'model.safetensors',
  'diffusion_pytorch_model.fp16.safetensors', 'model.fp16.safetensors',
  'diffusion_pytorch_model.bin', 'pytorch_model.bin', 'diffusion_pytorch_model.fp16.bin', 'pytorch_model.fp16.bin',
];
const INDEX_FILES = ['diffusion_pytorch_model.safetensors.index.json', 'model.safetensors.index.json', 'diffusion_pytorch_model.fp16.safetensors.index.json', 'model.fp16.safetensors.index.json'];

/** Pipeline sub-folders the studio uses, and the prefix their names get in the combined table. */
const COMPONENT_FOLDERS: Record<string, string> = { unet: 'unet', vae: 'vae', text_encoder: 'text_encoder', motion_adapter: 'motion_adapter' };

/** diffusers/transformers class name in config.json → component prefix, for a folder holding one component. */
const CLASS_COMPONENT: Record<string, string> = {
  UNet2DConditionModel: 'unet', UNetMotionModel: 'unet', AutoencoderKL: 'vae', CLIPTextModel: 'text_encoder', MotionAdapter: 'motion_adapter',
};

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const j: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Open the weight files of one component folder (single file or sharded index). */
function openComponent(dir: string): TensorTable[] {
  for (const idx of INDEX_FILES) {
    const p = join(dir, idx);
    if (!existsSync(p)) continue;
    const map = readJson(p)?.weight_map;
    if (typeof map !== 'object' || map === null) throw new StudioError('FORMAT_UNKNOWN', `${p} is not a valid shard index.`, { path: p });
    const shards = [...new Set(Object.values(map as Record<string, unknown>).map(String))];
    return shards.map((s) => {
      if (s.includes('/') || s.includes('\\') || s.includes('..')) throw new StudioError('FORMAT_UNKNOWN', `${p} names a shard outside its folder.`, { path: p });
      return openModel(join(dir, s));
    });
  }
  for (const f of WEIGHT_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) return [openModel(p)];
  }
  return [];
}

class FolderTable implements OpenedModel {
  readonly container = 'diffusers-folder' as const;
  readonly metadata: Record<string, string> = {};
  readonly notes: string[] = [];
  private readonly views = new Map<string, TensorView>();
  private readonly parts: TensorTable[] = [];

  constructor(readonly path: string) {}

  add(prefix: string, tables: TensorTable[], config: Record<string, unknown> | undefined): void {
    if (config) this.metadata[`${prefix || 'model'}.config`] = JSON.stringify(config);
    for (const t of tables) {
      this.parts.push(t);
      for (const n of t.names()) {
        const v = t.get(n);
        if (!v) continue;
        const name = prefix ? `${prefix}.${n}` : n;
        this.views.set(name, { name, dtype: v.dtype, shape: v.shape, readF32: () => v.readF32(), readRaw: () => v.readRaw() });
      }
      if ('notes' in t) this.notes.push(...(t as OpenedModel).notes);
    }
  }
  names(): string[] {
    return [...this.views.keys()];
  }
  get(name: string): TensorView | undefined {
    return this.views.get(name);
  }
  close(): void {
    for (const p of this.parts) p.close();
  }
}

/**
 * A diffusers pipeline folder (model_index.json + unet/ vae/ text_encoder/ [motion_adapter/]) or one component
 * folder (config.json + weights). Names get their component as prefix (`unet.conv_in.weight`) and each
 * component's config.json lands in metadata as `<component>.config`.
 */
export function openDiffusersFolder(path: string): OpenedModel {
  const table = new FolderTable(path);
  try {
    if (existsSync(join(path, 'model_index.json'))) {
      for (const [folder, prefix] of Object.entries(COMPONENT_FOLDERS)) {
        const dir = join(path, folder);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
        const tables = openComponent(dir);
        if (tables.length === 0) table.notes.push(`${folder}/ has no weight file the studio recognises.`);
        table.add(prefix, tables, readJson(join(dir, 'config.json')));
      }
    } else {
      const config = readJson(join(path, 'config.json'));
      const cls = config ? String(config._class_name ?? (Array.isArray(config.architectures) ? config.architectures[0] : '')) : '';
      table.add(CLASS_COMPONENT[cls] ?? '', openComponent(path), config);
    }
  } catch (e) {
    table.close();
    throw e;
  }
  if (table.names().length === 0) {
    const listing = (() => {
      try {
        return readdirSync(path).slice(0, 20).join(', ');
      } catch {
        return '';
      }
    })();
    throw new StudioError('FORMAT_UNKNOWN', `${path} is a folder without model weights the studio recognises. Point it at a diffusers folder (model_index.json with unet/, vae/, text_encoder/), a component folder (config.json + diffusion_pytorch_model.safetensors), or a single model file.`, { path, contents: listing });
  }
  return table;
}
