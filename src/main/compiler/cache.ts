import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError } from '../../shared/errors';

/**
 * Compiled artefacts on disk, keyed by what determines them. An entry is a folder `<root>/<hash>/` holding
 * graph files, weight files and `manifest.json`. The manifest is written LAST and lists every file with its size
 * (and a SHA-256 of each graph file, plus one of the first MiB of each weight file — hashing gigabytes on every
 * start would cost more than it saves). An entry without a valid manifest, or whose files disagree with it,
 * is partial or corrupt: it is removed and rebuilt.
 *
 * Atomicity: a new entry is built in `<root>/.tmp-…` and renamed into place in one step; graphs added to an
 * existing entry (another shape sharing the same weights) are written under temporary names and the manifest
 * is replaced by rename. Two processes building the same key: the second rename fails, the loser's copy is
 * dropped and the winner's used.
 *
 * Key: family config, weight identities (content hashes or `fileIdentity()`), LoRA stack, precision, shape and
 * COMPILER_VERSION. Bump COMPILER_VERSION whenever a graph builder changes its output, so old entries stop matching.
 */

export const COMPILER_VERSION = '1';
const MANIFEST = 'manifest.json';
const MANIFEST_VERSION = 1;
const HEAD_BYTES = 1 << 20;

export interface CacheKey {
  /** e.g. 'clip_text', 'unet_motion', 'vae_decoder'. */
  family: string;
  /** The model config the graph is built from. */
  config: unknown;
  /** Identity of each weight file used (content hash, or fileIdentity()). Order matters. */
  weights: string[];
  /** LoRA stack: [{ id, multiplier }…] in application order; empty/absent for none. */
  lora?: unknown;
  precision: 'float32' | 'float16';
  /** Compile-time shape (batch, frames, latent size…); leave out for an entry shared by several shapes. */
  shape?: unknown;
  /** Anything else that changes the graph (GroupNorm mode, clip skip…). */
  options?: unknown;
}

export interface ManifestFile {
  size: number;
  /** SHA-256 of the whole file (graph files). */
  sha256?: string;
  /** SHA-256 of the first MiB (weight files). */
  headSha256?: string;
}

export interface Manifest {
  version: number;
  compilerVersion: string;
  hash: string;
  key: CacheKey;
  createdAt: string;
  files: Record<string, ManifestFile>;
  /** Whatever the builder wants to remember (output names, timings…). */
  meta: Record<string, unknown>;
}

export interface CacheEntry {
  dir: string;
  hash: string;
  manifest: Manifest;
  /** True when the entry was found valid on disk, false when it was (re)built by this call. */
  reused: boolean;
}

/** Stable JSON (sorted object keys) → SHA-256 hex: the entry name. */
export function cacheKeyHash(key: CacheKey): string {
  return createHash('sha256').update(stableJson({ compilerVersion: COMPILER_VERSION, key })).digest('hex').slice(0, 32);
}

/** A cheap identity of a weight file: resolved path, size and modification time (use a content hash when known). */
export function fileIdentity(path: string): string {
  const st = statSync(path);
  return `${realpathSync(path)}|${st.size}|${Math.round(st.mtimeMs)}`;
}

export class CompileCache {
  constructor(readonly root: string) {}

  entryDir(key: CacheKey): string {
    return join(this.root, cacheKeyHash(key));
  }

  /** The valid entry for `key`, or undefined (a corrupt one is removed). */
  lookup(key: CacheKey): CacheEntry | undefined {
    const hash = cacheKeyHash(key);
    const dir = join(this.root, hash);
    if (!existsSync(dir)) return undefined;
    const problem = checkEntry(dir, hash);
    if (problem === undefined) return { dir, hash, manifest: readManifest(dir) as Manifest, reused: true };
    removeDir(dir);
    return undefined;
  }

  /**
   * The entry for `key`: reused when valid, otherwise `build(dir)` fills a fresh temporary folder (return
   * anything to keep in manifest.meta) and the folder is published atomically.
   */
  async getOrBuild(key: CacheKey, build: (dir: string) => Promise<Record<string, unknown> | void>): Promise<CacheEntry> {
    const hit = this.lookup(key);
    if (hit) return hit;
    const hash = cacheKeyHash(key);
    const dir = join(this.root, hash);
    mkdirSync(this.root, { recursive: true });
    const tmp = join(this.root, `.tmp-${hash}-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(tmp);
    let manifest: Manifest;
    try {
      const meta = (await build(tmp)) ?? {};
      manifest = { version: MANIFEST_VERSION, compilerVersion: COMPILER_VERSION, hash, key, createdAt: new Date().toISOString(), files: describeFiles(tmp), meta };
      if (Object.keys(manifest.files).length === 0) throw new StudioError('COMPILE_FAILED', `Compiling ${key.family} produced no files.`);
      writeFileSync(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1));
    } catch (e) {
      removeDir(tmp);
      throw e;
    }
    if (existsSync(dir)) removeDir(dir); // a corrupt leftover lookup() could not remove, or a racing loser
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process published the same key first: use theirs if it is valid.
      removeDir(tmp);
      const other = this.lookup(key);
      if (other) return other;
      throw new StudioError('CACHE_CORRUPT', `The compiled model cache at ${dir} could not be written (${(e as Error).message}).`, { dir });
    }
    return { dir, hash, manifest, reused: false };
  }

  /**
   * Adds a file (e.g. a graph for another shape, sharing the entry's weights) to an existing entry, unless the
   * manifest already lists it intact. `write(tmpPath)` writes the file; it is renamed to `name` and the manifest
   * is replaced atomically.
   */
  async getOrAddFile(entry: CacheEntry, name: string, write: (path: string) => Promise<void> | void): Promise<{ path: string; reused: boolean }> {
    const path = join(entry.dir, name);
    const current = readManifest(entry.dir);
    if (!current) throw new StudioError('CACHE_CORRUPT', `The compiled model cache entry ${entry.dir} has lost its manifest.`);
    const listed = current.files[name];
    if (listed && existsSync(path) && fileProblem(path, listed) === undefined) return { path, reused: true };
    const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
    try {
      await write(tmp);
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const next: Manifest = { ...current, files: { ...current.files, [name]: describeFile(path, name) } };
    const mtmp = join(entry.dir, `${MANIFEST}.tmp-${process.pid}`);
    writeFileSync(mtmp, JSON.stringify(next, null, 1));
    renameSync(mtmp, join(entry.dir, MANIFEST));
    entry.manifest = next;
    return { path, reused: false };
  }

  /** Removes the entry for `key` if present. */
  remove(key: CacheKey): void {
    removeDir(this.entryDir(key));
  }

  /** Entries on disk (valid or not) and leftover temporary folders, for housekeeping. */
  list(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root);
  }
}

/** Why `dir` is not a valid entry for `hash`, or undefined when it is. */
export function checkEntry(dir: string, hash: string): string | undefined {
  const m = readManifest(dir);
  if (!m) return 'no readable manifest (partial build)';
  if (m.version !== MANIFEST_VERSION || m.compilerVersion !== COMPILER_VERSION) return 'built by another compiler version';
  if (m.hash !== hash) return 'manifest belongs to another key';
  for (const [name, f] of Object.entries(m.files)) {
    const p = join(dir, name);
    if (!existsSync(p)) return `${name} is missing`;
    const why = fileProblem(p, f);
    if (why) return `${name} ${why}`;
  }
  return undefined;
}

function fileProblem(path: string, f: ManifestFile): string | undefined {
  const size = statSync(path).size;
  if (size !== f.size) return `has ${size} bytes, expected ${f.size}`;
  if (f.sha256 && sha256File(path) !== f.sha256) return 'checksum differs';
  if (f.headSha256 && sha256Head(path) !== f.headSha256) return 'checksum of its first MiB differs';
  return undefined;
}

function readManifest(dir: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    return typeof m === 'object' && m !== null && typeof m.files === 'object' ? m : undefined;
  } catch {
    return undefined;
  }
}

function describeFiles(dir: string): Record<string, ManifestFile> {
  const out: Record<string, ManifestFile> = {};
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isFile() || e.name === MANIFEST || e.name.includes('.tmp-')) continue;
    out[e.name] = describeFile(join(dir, e.name), e.name);
  }
  return out;
}

function describeFile(path: string, name: string): ManifestFile {
  const size = statSync(path).size;
  // Graph and JSON files are small: hash them whole. Weight files: size + first MiB.
  if (/\.(onnx|json)$/.test(name) || size <= HEAD_BYTES) return { size, sha256: sha256File(path) };
  return { size, headSha256: sha256Head(path) };
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function sha256Head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

function removeDir(dir: string): void {
  // Rename first so a half-deleted folder never looks like an entry.
  if (!existsSync(dir)) return;
  const trash = `${dir}.trash-${process.pid}-${Date.now().toString(36)}`;
  try {
    renameSync(dir, trash);
    rmSync(trash, { recursive: true, force: true });
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}
