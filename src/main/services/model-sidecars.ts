/**
 * The files people keep beside a model (A1111, ComfyUI, Civitai Helper): `<name>.preview.png|jpg|jpeg|webp`,
 * `<name>.civitai.info` (Civitai's model-version JSON) and `<name>.json` (A1111 extra-networks: activation text,
 * preferred weight, notes). Read only, bounded, and only inside the model's folder: a sidecar is the creator's
 * file, the studio never writes it; edits made in the studio go to its database.
 */
import { lstat, open, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';

/** What the sidecars add to an item. */
export interface Sidecars {
  /** Path of a preview image that is really an image, inside the folder. */
  preview: string | null;
  /** Activation text first, then Civitai's trained words. */
  triggerWords: string[];
  baseModel: string | null;
  defaultWeight: number | null;
  notes: string | null;
  description: string | null;
  /** One line per sidecar that was skipped, with the reason. */
  problems: string[];
}

/** Sidecar JSON larger than this is not read (a real one is a few kilobytes; Civitai's with images ~100 KB). */
export const SIDECAR_MAX_BYTES = 2 * 2 ** 20;
const PREVIEW_MAX_BYTES = 32 * 2 ** 20;
const TEXT_MAX = 10_000;

/** A model file's name without its extension: what its sidecars are named after. */
export function stemOf(modelPath: string): string {
  return basename(modelPath).replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');
}

/**
 * The model stems a file name could be a sidecar of (empty: it is none). `x.preview.png` belongs to `x`, or to a
 * model named `x.preview` (the plain `<name>.png` form), so both are given.
 */
export function sidecarStems(fileName: string): string[] {
  const preview = /^(.+)\.preview\.(png|jpe?g|webp)$/i.exec(fileName);
  if (preview) return [preview[1], fileName.replace(/\.[^.]+$/, '')];
  const other = /^(.+)\.(civitai\.info|json|png|jpe?g|webp)$/i.exec(fileName);
  return other ? [other[1]] : [];
}

async function insideFolder(path: string, root: string): Promise<string | null> {
  const [real, realRoot] = await Promise.all([realpath(path).catch(() => null), realpath(root).catch(() => null)]);
  if (!real || !realRoot) return null;
  return real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep) ? real : null;
}

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** PNG, JPEG or WebP by their magic bytes (the extension alone proves nothing). */
export function isImage(b: Buffer): boolean {
  const png = b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const jpeg = b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  const webp = b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';
  return png || jpeg || webp;
}

type Outcome = { json: Record<string, unknown> } | { problem: string } | null;

/**
 * A sidecar's file: its real path inside the folder, or why it is skipped (a link out of the folder or in a loop,
 * a folder or a pipe under a sidecar's name, unreadable); null when there is none.
 */
async function locate(path: string, root: string): Promise<{ real: string; size: number } | { problem: string } | null> {
  const name = basename(path);
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A link whose target is gone is no sidecar either; say so rather than ignore it silently.
      const link = await lstat(path).catch(() => null);
      return link?.isSymbolicLink() ? { problem: `${name} was skipped: it is a link to a file that is not there.` } : null;
    }
    if (code === 'ELOOP') return { problem: `${name} was skipped: it is a link that leads back to itself (a symlink loop).` };
    return { problem: `${name} was skipped: it could not be read (${code ?? 'error'}).` };
  }
  const real = await insideFolder(path, root);
  if (!real) return { problem: `${name} was skipped: it leads outside the model folder.` };
  if (!s.isFile()) return { problem: `${name} was skipped: it is ${s.isDirectory() ? 'a folder' : 'not a regular file'}.` };
  return { real, size: s.size };
}

/** A sidecar's JSON object, or why it was skipped; null when there is none. */
async function readJson(path: string, root: string): Promise<Outcome> {
  const where = await locate(path, root);
  if (!where || 'problem' in where) return where;
  const name = basename(path);
  if (where.size > SIDECAR_MAX_BYTES) return { problem: `${name} was skipped: ${(where.size / 2 ** 20).toFixed(1)} MB is too large for a sidecar (at most ${SIDECAR_MAX_BYTES / 2 ** 20} MB).` };
  try {
    // Windows editors (Notepad) save UTF-8 with a byte-order mark, which JSON.parse refuses.
    const v: unknown = JSON.parse((await head(where.real, SIDECAR_MAX_BYTES)).toString('utf8').replace(/^\uFEFF/, ''));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return { problem: `${name} was skipped: it is JSON but not an object.` };
    return { json: v as Record<string, unknown> };
  } catch {
    return { problem: `${name} was skipped: it is not valid JSON.` };
  }
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim().slice(0, TEXT_MAX) : null);

/** Read the sidecars of the model at `modelPath`, allowing only files inside `root`. */
export async function readSidecars(modelPath: string, root: string): Promise<Sidecars> {
  const dir = dirname(modelPath);
  const stem = stemOf(modelPath);
  const out: Sidecars = { preview: null, triggerWords: [], baseModel: null, defaultWeight: null, notes: null, description: null, problems: [] };

  for (const ext of ['preview.png', 'preview.jpg', 'preview.jpeg', 'preview.webp', 'png', 'jpg', 'jpeg', 'webp']) {
    const p = join(dir, `${stem}.${ext}`);
    const where = await locate(p, root);
    if (!where) continue;
    if ('problem' in where) out.problems.push(where.problem);
    else if (where.size > PREVIEW_MAX_BYTES) out.problems.push(`${basename(p)} was skipped: larger than ${PREVIEW_MAX_BYTES / 2 ** 20} MB.`);
    else if (!isImage(await head(where.real, 16))) out.problems.push(`${basename(p)} was skipped: it is not a PNG, JPEG or WebP image.`);
    else {
      out.preview = p;
      break;
    }
  }

  const a1111 = await readJson(join(dir, `${stem}.json`), root);
  const civitai = await readJson(join(dir, `${stem}.civitai.info`), root);
  for (const o of [a1111, civitai]) if (o && 'problem' in o) out.problems.push(o.problem);
  if (a1111 && 'json' in a1111) {
    const j = a1111.json;
    const activation = text(j['activation text']);
    if (activation) out.triggerWords.push(...activation.split(',').map((w) => w.trim()).filter(Boolean));
    const w = Number(j['preferred weight']);
    if (Number.isFinite(w) && w !== 0 && Math.abs(w) <= 10) out.defaultWeight = w;
    out.notes = text(j.notes);
    out.description = text(j.description);
    const sd = text(j['sd version']);
    if (sd && sd.toLowerCase() !== 'unknown') out.baseModel = sd;
  }
  if (civitai && 'json' in civitai) {
    const j = civitai.json;
    if (Array.isArray(j.trainedWords)) {
      for (const t of j.trainedWords.slice(0, 200)) if (typeof t === 'string') out.triggerWords.push(...t.split(',').map((w) => w.trim().slice(0, 200)).filter(Boolean));
    }
    out.baseModel = text(j.baseModel) ?? out.baseModel;
    out.description ??= text(j.description) ?? (typeof j.model === 'object' && j.model !== null ? text((j.model as Record<string, unknown>).description) : null);
  }
  return out;
}
