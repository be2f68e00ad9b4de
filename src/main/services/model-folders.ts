/**
 * Model folders indexed in place: an A1111 or ComfyUI root, or any folder. Files are never copied. A scan walks
 * the layout's subfolders (bounded: file count, depth, symlink loops) and reconciles the index (store/folders-store);
 * hashing runs after it, file by file, through LibraryService (in the engine worker for the studio), skipping files
 * whose size and mtime are unchanged. fs.watch (recursive) triggers a rescan; a rescan also runs at start.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { StudioError, isStudioError } from '../../shared/errors';
import type { FolderFileNote, FolderLayout, LibraryItem, LibraryKind, ModelFolder } from '../../shared/domain/library';
import type { StudioDatabase } from '../store/database';
import { FoldersStore, type FolderFileRow, type ReconcileResult, type ScannedFile } from '../store/folders-store';
import { LibraryStore } from '../store/library-store';
import type { LibraryService } from './library-service';
import { readSidecars, sidecarStems, stemOf } from './model-sidecars';
import { residecar, withSidecars } from './sidecar-merge';

/** Whether re-reading the sidecars would leave the item as it is (metadata compared regardless of key order). */
function sameSidecarView(a: Pick<LibraryItem, 'metadata' | 'triggerWords' | 'preview' | 'previewSource'>, b: Pick<LibraryItem, 'metadata' | 'triggerWords' | 'preview' | 'previewSource'>): boolean {
  const canon = (x: typeof a) => JSON.stringify([Object.entries(x.metadata).sort(([k], [l]) => (k < l ? -1 : k > l ? 1 : 0)), x.triggerWords, x.preview, x.previewSource]);
  return canon(a) === canon(b);
}

/** Which subfolder holds which kind, per layout ('' = the whole folder, kind detected from the bytes). */
export const LAYOUT_FOLDERS: Readonly<Record<FolderLayout, readonly (readonly [string, LibraryKind | null])[]>> = {
  a1111: [
    ['models/Stable-diffusion', 'checkpoint'],
    ['models/Lora', 'lora'],
    ['models/LyCORIS', 'lora'],
    ['models/VAE', 'vae'],
    ['embeddings', 'embedding'],
    ['models/ControlNet', 'controlnet'],
    ['extensions/sd-webui-animatediff/model', 'motion'],
  ],
  comfyui: [
    ['models/checkpoints', 'checkpoint'],
    ['models/loras', 'lora'],
    ['models/vae', 'vae'],
    ['models/embeddings', 'embedding'],
    ['models/controlnet', 'controlnet'],
    ['models/animatediff_models', 'motion'],
    ['models/animatediff_motion_lora', 'motion-lora'],
  ],
  plain: [['', null]],
};

const MODEL_EXTENSIONS = /\.(safetensors|ckpt|pt|pth|bin)$/i;

export interface FolderLimits {
  /** Model files indexed per folder; beyond it the scan stops with a note (the index stays usable). */
  maxFiles: number;
  maxDepth: number;
}

export const DEFAULT_FOLDER_LIMITS: FolderLimits = { maxFiles: 200_000, maxDepth: 24 };

export interface HashProgress {
  folderId: number;
  /** Files settled in this pass, and how many there were to do when it started. */
  done: number;
  total: number;
  path: string;
}

export interface ScanResult extends ReconcileResult {
  folder: ModelFolder;
}

/** The layout a root looks like, from the subfolders it has. */
export async function detectLayout(root: string): Promise<FolderLayout> {
  const has = async (p: string) => (await stat(join(root, p)).catch(() => null))?.isDirectory() === true;
  if ((await has('models/Stable-diffusion')) || (await has('extensions/sd-webui-animatediff'))) return 'a1111';
  if ((await has('models/checkpoints')) || (await has('models/animatediff_models'))) return 'comfyui';
  return 'plain';
}

export class ModelFolderService {
  private readonly store: FoldersStore;
  private readonly items: LibraryStore;
  private readonly watchers = new Map<number, FSWatcher>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  /** Names the watcher reported per folder since its last run (null: it did not say which). */
  private readonly changed = new Map<number, Set<string | null>>();
  private hashing: Promise<void> | null = null;
  private closed = false;

  constructor(
    db: StudioDatabase,
    private readonly library: LibraryService,
    private readonly limits: FolderLimits = DEFAULT_FOLDER_LIMITS,
    private readonly onProgress: (p: HashProgress) => void = () => undefined,
  ) {
    this.store = new FoldersStore(db);
    this.items = new LibraryStore(db);
  }

  listFolders(): ModelFolder[] {
    return this.store.list();
  }

  notes(folderId?: number): FolderFileNote[] {
    return this.store.notes(folderId);
  }

  files(folderId: number): FolderFileRow[] {
    return this.store.files(folderId);
  }

  /** Register a folder (its layout detected when not given) and index it. Adding it again rescans it. */
  async addFolder(path: string, layout?: FolderLayout): Promise<ScanResult> {
    const root = resolve(path);
    const st = await stat(root).catch(() => null);
    if (!st) throw new StudioError('FILE_NOT_FOUND', `${root} does not exist. Check the path and try again.`, { path: root });
    if (!st.isDirectory()) throw new StudioError('BAD_REQUEST', `${root} is a file; add the folder that holds your models (or import the file).`, { path: root });
    const folder = this.store.add(root, layout ?? (await detectLayout(root)));
    return this.scan(folder.id);
  }

  async removeFolder(id: number): Promise<void> {
    this.unwatch(id);
    this.store.remove(id);
  }

  /**
   * Walk the folder and bring the index up to date. A root that is not there (an unplugged drive) makes the folder
   * offline and its items 'offline' — nothing is deleted; when it comes back they are 'ok' again.
   */
  async scan(id: number): Promise<ScanResult> {
    const folder = this.store.require(id);
    const rootStat = await stat(folder.path).catch(() => null);
    if (!rootStat?.isDirectory()) {
      this.store.setStatus(id, 'offline', `${folder.path} is not reachable (drive unplugged or folder moved); its models are shown as offline.`, null);
      this.items.setFolderAvailability(id, null, 'offline');
      return { folder: this.store.require(id), added: 0, removed: 0, changed: 0, renamed: 0, unchanged: 0, goneItems: [], movedItems: [] };
    }
    const { files, notes, sidecars } = await this.walk(folder);
    const res = this.store.reconcile(id, files);
    if (res.goneItems.length) this.items.setAvailability(res.goneItems.map((i) => ({ id: i, availability: 'missing' as const })));
    for (const m of res.movedItems) {
      const item = this.items.get(m.itemId);
      if (item) this.items.relocate(m.itemId, join(folder.path, ...m.relPath.split('/')), 'reference', m.sizeBytes, undefined, id);
    }
    // Back from offline: everything is 'ok' again except what this scan found gone (missing, just above).
    if (folder.status === 'offline') this.items.setFolderAvailability(id, 'offline', 'ok');
    this.store.setStatus(id, 'ok', notes.length ? notes.slice(0, 5).join(' ') : null);
    // Sidecars edited while nothing watched (the studio closed, a network drive): their models' items catch up.
    // Only models that have sidecars are looked at, and an item whose sidecars say the same is not written.
    if (sidecars.length) await this.refreshSidecars(id, sidecars);
    return { folder: this.store.require(id), ...res };
  }

  /** Rescan every folder (at start: catches what changed while the studio was closed). */
  async rescanAll(): Promise<void> {
    for (const f of this.store.list()) await this.scan(f.id);
  }

  /**
   * Hash and import every pending file (of one folder, or all), one at a time. A file that changes while it is
   * hashed is left pending with a note and tried again on the next pass; a file that is not a model gets the
   * reason as its note. Concurrent calls share one pass.
   */
  hashPending(folderId?: number): Promise<void> {
    if (!this.hashing) {
      this.hashing = this.hashPass(folderId).finally(() => {
        this.hashing = null;
      });
    }
    return this.hashing;
  }

  private async hashPass(folderId?: number): Promise<void> {
    const tried = new Set<string>();
    const total = this.store.list().filter((f) => folderId === undefined || f.id === folderId).reduce((n, f) => n + f.pending, 0);
    let done = 0;
    for (;;) {
      if (this.closed) return;
      const batch = this.store.pending(64 + tried.size, folderId).filter((f) => !tried.has(`${f.folderId}:${f.relPath}`));
      if (batch.length === 0) return;
      for (const file of batch) {
        if (this.closed) return;
        tried.add(`${file.folderId}:${file.relPath}`);
        const folder = this.store.root(file.folderId);
        if (!folder || folder.status === 'offline') continue;
        const abs = join(folder.path, ...file.relPath.split('/'));
        await this.hashOne(file, abs, folder.path);
        this.onProgress({ folderId: file.folderId, done: ++done, total, path: abs });
      }
    }
  }

  private async hashOne(file: FolderFileRow, abs: string, root: string): Promise<void> {
    const same = async () => {
      const s = await stat(abs).catch(() => null);
      return s !== null && s.size === file.sizeBytes && Math.trunc(s.mtimeMs) === file.mtimeMs;
    };
    if (!(await same())) {
      this.store.settle(file, { state: 'pending', note: 'Changed or removed since the folder was scanned; it is indexed again on the next scan.' });
      return;
    }
    try {
      const info = await this.library.inspect(abs);
      if (!(await same())) {
        this.store.settle(file, { state: 'pending', note: 'The file changed while it was being hashed; it is hashed again once it stops changing.' });
        return;
      }
      // Read here when the item is created, and again by refreshSidecars when one changes (the watcher).
      const side = await readSidecars(abs, root);
      const merged = withSidecars(info, side);
      const { item } = await this.library.adopt(abs, merged.info, file.sizeBytes, { folderId: file.folderId, kindHint: file.kindHint, tags: merged.tags });
      this.store.settle(file, { state: 'done', note: side.problems.length ? side.problems.join(' ') : null, sha256: info.sha256, itemId: item.id });
    } catch (e) {
      const note = isStudioError(e) || e instanceof Error ? e.message : String(e);
      this.store.settle(file, { state: 'error', note });
    }
  }

  /** Watch every folder; a change rescans that folder (debounced) and hashes what is new. */
  watchAll(debounceMs = 500): void {
    for (const f of this.store.list()) this.watchFolder(f.id, debounceMs);
  }

  watchFolder(id: number, debounceMs = 500): void {
    if (this.watchers.has(id) || this.closed) return;
    const folder = this.store.require(id);
    try {
      const w = watch(folder.path, { recursive: true }, (_event, name) => {
        let names = this.changed.get(id);
        if (!names) this.changed.set(id, (names = new Set()));
        names.add(name === null ? null : String(name));
        this.schedule(id, debounceMs);
      });
      w.on('error', () => {
        // The root went away (drive unplugged): one more scan marks it offline; the next start watches it again.
        this.unwatch(id);
        this.schedule(id, debounceMs);
      });
      this.watchers.set(id, w);
    } catch {
      // Not there now (offline) or not watchable: the rescan at start still covers it.
    }
  }

  private schedule(id: number, debounceMs: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        const names = [...(this.changed.get(id) ?? [])];
        this.changed.delete(id);
        if (this.closed || !this.store.get(id)) return;
        // Only sidecars changed: re-read them into their items; the models themselves are untouched (no rescan,
        // no hashing). Anything else (or a watcher that does not name files) rescans the folder first.
        const sidecars = names.filter((n): n is string => n !== null && sidecarStems(basename(n)).length > 0);
        const onlySidecars = names.length > 0 && sidecars.length === names.length;
        const work = onlySidecars ? this.refreshSidecars(id, sidecars) : this.scan(id).then(() => this.hashPending()).then(() => this.refreshSidecars(id, sidecars));
        void work.catch(() => undefined);
      }, debounceMs),
    );
  }

  /**
   * Re-read the sidecars named (paths relative to the folder) into the items of the models they belong to: card
   * preview, trigger words, base model, default weight, notes — the model file is not read or hashed again. The
   * file's note says what was skipped, as at indexing. Reported as one finished progress pass, so an open Library
   * place reloads its cards.
   */
  async refreshSidecars(id: number, names: readonly string[]): Promise<void> {
    const folder = this.store.get(id);
    if (!folder || folder.status === 'offline') return;
    const stemsByDir = new Map<string, Set<string>>();
    for (const n of names) {
      const rel = n.split(sep).join('/');
      const dir = dirname(rel) === '.' ? '' : dirname(rel);
      const stems = stemsByDir.get(dir) ?? new Set<string>();
      stemsByDir.set(dir, stems);
      for (const stem of sidecarStems(basename(rel))) stems.add(stem);
    }
    const updated: string[] = [];
    for (const [dir, stems] of stemsByDir) {
      for (const file of this.store.filesIn(id, dir)) {
        if (this.closed) return;
        if (file.state !== 'done' || file.itemId === null || !stems.has(stemOf(file.relPath))) continue;
        const item = this.items.get(file.itemId);
        if (!item) continue;
        const side = await readSidecars(join(folder.path, ...file.relPath.split('/')), folder.path);
        const next = residecar(item, side);
        const note = side.problems.length ? side.problems.join(' ') : null;
        const same = sameSidecarView(next, item);
        if (same && note === file.note) continue;
        if (!same) this.items.applySidecars(item.id, next);
        this.store.settle(file, { state: 'done', note, sha256: file.sha256, itemId: file.itemId });
        updated.push(join(folder.path, ...file.relPath.split('/')));
      }
    }
    updated.forEach((path, i) => this.onProgress({ folderId: id, done: i + 1, total: updated.length, path }));
  }

  private unwatch(id: number): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    this.changed.delete(id);
  }

  /** Stop watching and hashing (the pass in progress finishes its current file). */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.watchers.keys(), ...this.timers.keys()]) this.unwatch(id);
    await this.hashing?.catch(() => undefined);
  }

  /** Model files under the layout's subfolders, bounded in count and depth; symlinked folders followed once. */
  private async walk(folder: ModelFolder): Promise<{ files: ScannedFile[]; notes: string[]; sidecars: string[] }> {
    const files: ScannedFile[] = [];
    // Names only (no stat): files that may be a model's sidecar, re-read after the scan.
    const sidecars: string[] = [];
    const notes: string[] = [];
    const visited = new Set<string>();
    for (const [sub, kindHint] of LAYOUT_FOLDERS[folder.layout]) {
      const start = join(folder.path, ...sub.split('/').filter(Boolean));
      const stack: { dir: string; depth: number }[] = [{ dir: start, depth: 0 }];
      while (stack.length) {
        const { dir, depth } = stack.pop()!;
        const real = await realpath(dir).catch(() => null);
        if (real === null) continue;
        if (visited.has(real)) {
          if (notes.length < 20) notes.push(`Skipped ${relative(folder.path, dir) || '.'}: a symlink loop or a folder already indexed.`);
          continue;
        }
        visited.add(real);
        const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOTDIR' ? [] : null));
        if (!entries) {
          if (notes.length < 20 && depth > 0) notes.push(`Could not read ${relative(folder.path, dir)}.`);
          continue;
        }
        const candidates: string[] = [];
        for (const e of entries) {
          const p = join(dir, e.name);
          if (e.isDirectory() || (e.isSymbolicLink() && !MODEL_EXTENSIONS.test(e.name))) {
            if (depth + 1 > this.limits.maxDepth) {
              if (notes.length < 20) notes.push(`Stopped at ${relative(folder.path, p)}: folders nested deeper than ${this.limits.maxDepth} are not indexed.`);
            } else stack.push({ dir: p, depth: depth + 1 });
          } else if (MODEL_EXTENSIONS.test(e.name) && (e.isFile() || e.isSymbolicLink())) candidates.push(p);
          else if (sidecars.length < this.limits.maxFiles && sidecarStems(e.name).length > 0) sidecars.push(relative(folder.path, p).split(sep).join('/'));
        }
        // stat in small parallel batches: a folder of 100,000 files stays bounded in open handles and memory.
        for (let i = 0; i < candidates.length; i += 64) {
          const stats = await Promise.all(candidates.slice(i, i + 64).map((p) => stat(p).then((s) => ({ p, s, code: null })).catch((e: NodeJS.ErrnoException) => ({ p, s: null, code: e.code ?? 'error' }))));
          for (const r of stats) {
            if (!r.s) {
              // A model link that loops or whose target is gone: no item, so the folder says why.
              const why = r.code === 'ELOOP' ? 'a link that leads back to itself (a symlink loop)' : r.code === 'ENOENT' ? 'a link to a file that is not there' : `it could not be read (${r.code})`;
              if (notes.length < 20) notes.push(`Skipped ${relative(folder.path, r.p).split(sep).join('/')}: ${why}.`);
              continue;
            }
            if (!r.s.isFile()) continue;
            if (files.length >= this.limits.maxFiles) {
              notes.push(`Indexed the first ${this.limits.maxFiles} model files only; split the folder or add its subfolders separately.`);
              return { files, notes, sidecars };
            }
            const rel = relative(folder.path, r.p).split(sep).join('/');
            // A symlinked file that leads outside the folder is indexed by its path inside the folder (never followed for media).
            files.push({ relPath: rel, sizeBytes: r.s.size, mtimeMs: Math.trunc(r.s.mtimeMs), kindHint });
          }
        }
      }
    }
    return { files, notes, sidecars };
  }
}
