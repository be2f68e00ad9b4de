/**
 * The model library: import (by reference or by copy), list, edit, remove, and notice files that moved.
 * Hashing and detection come from an injected FileInspector; the rows live in store/library-store.
 */
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { StudioError } from '../../shared/errors';
import type {
  ImportOptions,
  ImportResult,
  LibraryAvailability,
  LibraryFilter,
  LibraryItem,
  LibraryItemUpdate,
  LibraryKind,
  RefreshResult,
} from '../../shared/domain/library';
import { commitFile, discardTemporary, temporarySibling } from '../store/atomic-files';
import type { StudioDatabase } from '../store/database';
import { isInside } from '../store/layout';
import { LibraryStore } from '../store/library-store';
import { inspectModelFile, nameFromPath } from '../engine/jobs/inspect-file';
import type { FileInspector, InspectedFile } from './library-inspector';
import { isImage } from './model-sidecars';

export interface LibraryServiceOptions {
  inspector?: FileInspector;
}

const KIND_WORD: Record<LibraryKind, string> = {
  checkpoint: 'a checkpoint',
  motion: 'a motion module',
  'motion-lora': 'a motion LoRA',
  lora: 'a LoRA',
  embedding: 'an embedding',
  vae: 'a VAE',
  controlnet: 'a ControlNet',
};

/** LoRAs and motion LoRAs are both "a LoRA" to a creator asking for one; the detected kind is kept. */
function sameRole(a: LibraryKind, b: LibraryKind): boolean {
  const role = (k: LibraryKind) => (k === 'motion-lora' ? 'lora' : k);
  return role(a) === role(b);
}

/** Where an inspected file comes from when a model folder adopts it. */
export interface AdoptOptions extends ImportOptions {
  folderId?: number | null;
  /** The kind the folder's layout says (e.g. models/ControlNet), used when the bytes do not say. */
  kindHint?: LibraryKind | null;
}

/**
 * The thumbnail a file's metadata carries (modelspec.thumbnail) is shown only if its bytes are a PNG, JPEG or WebP:
 * the data: URL's declared type proves nothing. Otherwise the item has none, and its metadata says why.
 */
function withCheckedThumbnail(info: InspectedFile): InspectedFile {
  // A path is a sidecar preview, already checked by its bytes (model-sidecars.ts).
  if (info.thumbnail === null || !info.thumbnail.startsWith('data:')) return info;
  const m = /^data:[^,]*;base64,(.*)$/s.exec(info.thumbnail);
  if (m && isImage(Buffer.from(m[1].slice(0, 64), 'base64'))) return info;
  return { ...info, thumbnail: null, metadata: { ...info.metadata, 'thumbnail.skipped': 'The thumbnail in the file’s metadata is not a PNG, JPEG or WebP image, so it is not shown.' } };
}

function isLoraKind(k: LibraryKind): boolean {
  return k === 'lora' || k === 'motion-lora';
}

async function statOrNull(path: string): Promise<{ size: number; isFile: boolean } | null> {
  try {
    const s = await stat(path);
    return { size: s.size, isFile: s.isFile() };
  } catch {
    return null;
  }
}

export class LibraryService {
  private readonly store: LibraryStore;
  private readonly inspector: FileInspector;

  constructor(
    private readonly db: StudioDatabase,
    opts: LibraryServiceOptions = {},
  ) {
    this.store = new LibraryStore(db);
    this.inspector = opts.inspector ?? inspectModelFile;
  }

  async list(filter: LibraryFilter = {}): Promise<LibraryItem[]> {
    return this.store.list(filter);
  }

  /** Checkpoints and motion modules (a `kind` in the filter narrows further). */
  async listModels(filter: LibraryFilter = {}): Promise<LibraryItem[]> {
    if (filter.kind) return isLoraKind(filter.kind) ? [] : this.store.list(filter);
    return this.store.list(filter).filter((i) => !isLoraKind(i.kind));
  }

  /** LoRAs and motion LoRAs (a `kind` in the filter narrows to one of them). */
  async listLoras(filter: LibraryFilter = {}): Promise<LibraryItem[]> {
    if (filter.kind) return isLoraKind(filter.kind) ? this.store.list(filter) : [];
    return this.store.list(filter).filter((i) => isLoraKind(i.kind));
  }

  async getItem(id: number): Promise<LibraryItem> {
    return this.store.require(id);
  }

  /** The item with this SHA-256 (full, lowercase or not), if imported. */
  async findBySha256(sha256: string): Promise<LibraryItem | undefined> {
    return this.store.bySha256(sha256);
  }

  /**
   * Import a model file. Same SHA-256 as an existing item → that item is returned (`existing: true`); if it had
   * gone missing, it now points at this file. 'copy' puts a copy in the data folder (temp name + rename).
   */
  async importFile(path: string, options: ImportOptions = {}): Promise<ImportResult> {
    const source = resolve(path);
    const st = await statOrNull(source);
    if (!st) throw new StudioError('FILE_NOT_FOUND', `${source} does not exist. Check the path and try again.`, { path: source });
    if (!st.isFile) throw new StudioError('BAD_REQUEST', `${source} is a folder; import a single model file (.safetensors or .ckpt).`, { path: source });

    return this.adopt(source, await this.inspector(source), st.size, options);
  }

  /** Inspect a file (hash, detection) without importing it: a model folder's indexer calls adopt() after. */
  async inspect(path: string): ReturnType<FileInspector> {
    return this.inspector(resolve(path));
  }

  /**
   * Put an inspected file into the library (importFile's second half). Same SHA-256 as an existing item → that
   * item is returned (`existing: true`); if it had gone missing, it now points at this file.
   */
  async adopt(source: string, info: InspectedFile, sizeBytes: number, options: AdoptOptions = {}): Promise<ImportResult> {
    if (options.kind && info.kind && !sameRole(options.kind, info.kind)) {
      throw new StudioError('FORMAT_MISMATCH', `${basename(source)} is ${KIND_WORD[info.kind]}, not ${KIND_WORD[options.kind]}. Import it as ${KIND_WORD[info.kind]} instead.`, {
        path: source,
        detected: info.kind,
        requested: options.kind,
      });
    }
    // A single tensor reads as a (diffusers) embedding; in a ControlNet folder the folder knows better.
    const controlnet = (!info.kind || info.kind === 'embedding') && !options.kind && options.kindHint === 'controlnet';
    const kind = controlnet ? 'controlnet' : (info.kind ?? options.kind ?? null);
    if (!kind) {
      throw new StudioError(
        'MODEL_FAMILY_UNKNOWN',
        info.family === 'unknown' && info.supportMessage
          ? `${basename(source)}: ${info.supportMessage}`
          : `${basename(source)} is a ${info.familyLabel}; the library holds checkpoints, motion modules, LoRAs, embeddings and VAEs.`,
        { path: source, family: info.family },
      );
    }
    if (controlnet) {
      // Found in a ControlNet folder: listed so the creator sees it, marked as what the studio cannot run yet.
      info = { ...info, family: 'controlnet', familyLabel: 'ControlNet', supported: false, supportMessage: 'The studio does not run ControlNets yet.' };
    }
    info = withCheckedThumbnail(info);
    const mode = options.mode ?? 'reference';
    const folderId = mode === 'reference' ? (options.folderId ?? null) : null;
    const st = { size: sizeBytes };
    const known = this.store.bySha256(info.sha256);
    // Same bytes, same verdict: an item recorded under older rules takes today's (e.g. a UNet-only file once
    // listed as a usable checkpoint).
    const verdict = { family: info.family, familyLabel: info.familyLabel, supported: info.supported, supportMessage: info.supportMessage };
    const existing =
      known && (known.family !== verdict.family || known.familyLabel !== verdict.familyLabel || known.supported !== verdict.supported || known.supportMessage !== verdict.supportMessage)
        ? this.store.reclassify(known.id, verdict)
        : known;
    if (existing) {
      if (existing.availability === 'ok' && (await statOrNull(existing.path)) !== null) return { item: existing, existing: true };
      // The same file, found again somewhere else: adopt the new location rather than keep a dead entry.
      const { path: where, storage } = mode === 'copy' ? { path: await this.copyIn(source, info.sha256), storage: 'copy' as const } : { path: source, storage: 'reference' as const };
      return { item: this.store.relocate(existing.id, where, storage, st.size, undefined, storage === 'reference' ? folderId : null), existing: true };
    }

    const finalPath = mode === 'copy' ? await this.copyIn(source, info.sha256) : source;
    try {
      const item = this.store.insert({
        kind,
        name: options.name?.trim() || info.title || nameFromPath(source),
        path: finalPath,
        storage: mode,
        sizeBytes: st.size,
        sha256: info.sha256,
        autov2: info.autov2,
        autov3: info.autov3,
        family: info.family,
        familyLabel: info.familyLabel,
        supported: info.supported,
        supportMessage: info.supportMessage,
        metadata: info.metadata,
        triggerWords: info.triggerWords,
        tags: options.tags ?? [],
        preview: info.thumbnail,
        folderId,
      });
      return { item, existing: false };
    } catch (e) {
      if (mode === 'copy') await discardTemporary(finalPath);
      // Another import of the same file won the race: that one is the library's.
      const raced = this.store.bySha256(info.sha256);
      if (raced) return { item: raced, existing: true };
      throw e;
    }
  }

  /** Remove from the library. The studio's own copy is deleted; a referenced file of the creator's never is. */
  async removeItem(id: number): Promise<void> {
    const item = this.store.remove(id);
    if (item.storage === 'copy' && isInside(this.db.layout.library, item.path)) {
      await rm(item.path, { force: true }).catch(() => undefined);
    }
  }

  async updateItem(id: number, patch: LibraryItemUpdate): Promise<LibraryItem> {
    return this.store.update(id, patch);
  }

  /** Check every item's file: missing (moved/deleted) or changed (size differs) are marked, not removed. */
  async refresh(): Promise<RefreshResult> {
    const items = this.store.list();
    const changes: { id: number; availability: LibraryAvailability }[] = [];
    for (const item of items) {
      // Offline: its folder's drive is away; the folder's scan decides when it is back (ModelFolderService).
      if (item.availability === 'offline') continue;
      const st = await statOrNull(item.path);
      const availability: LibraryAvailability = !st || !st.isFile ? 'missing' : st.size !== item.sizeBytes ? 'changed' : 'ok';
      changes.push({ id: item.id, availability });
    }
    this.store.setAvailability(changes);
    const after = this.store.list();
    return {
      checked: after.length,
      missing: after.filter((i) => i.availability === 'missing').length,
      changed: after.filter((i) => i.availability === 'changed').length,
      items: after,
    };
  }

  /** StudioApi name for `refresh`. */
  async refreshLibrary(): Promise<RefreshResult> {
    return this.refresh();
  }

  private async copyIn(source: string, sha256: string): Promise<string> {
    const dest = resolve(this.db.layout.library, `${sha256.slice(0, 8)}-${basename(source)}`);
    if (resolve(source) === dest) return dest;
    const tmp = temporarySibling(dest);
    try {
      await mkdir(this.db.layout.library, { recursive: true });
      await copyFile(source, tmp);
      await commitFile(tmp, dest);
    } catch (e) {
      await discardTemporary(tmp);
      throw e;
    }
    return dest;
  }
}
