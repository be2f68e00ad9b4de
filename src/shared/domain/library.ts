/**
 * The model library as the renderer, CLI and services see it: checkpoints, motion modules and LoRAs the creator
 * has imported. Plain JSON; the store owns the SQLite rows these come from.
 */

/**
 * checkpoint, motion module, AnimateDiff motion LoRA, LoRA, textual-inversion embedding, VAE, ControlNet (indexed
 * from model folders; the studio does not run ControlNets yet, so those are listed as not usable).
 */
export type LibraryKind = 'checkpoint' | 'motion' | 'motion-lora' | 'lora' | 'embedding' | 'vae' | 'controlnet';

export const LIBRARY_KINDS: readonly LibraryKind[] = ['checkpoint', 'motion', 'motion-lora', 'lora', 'embedding', 'vae', 'controlnet'];

/** 'reference': the creator's file stays where it is. 'copy': the studio keeps its own copy in the data folder. */
export type LibraryStorage = 'reference' | 'copy';

/**
 * 'ok': the file is where we recorded it with the recorded size. 'missing': moved or deleted since import.
 * 'changed': still there but its size differs, so the recorded hash is no longer trustworthy (re-import it).
 * 'offline': it lives in a model folder whose drive or root is not there now; it comes back when the folder does.
 */
export type LibraryAvailability = 'ok' | 'missing' | 'changed' | 'offline';

export interface LibraryItem {
  id: number;
  kind: LibraryKind;
  /** Display name: metadata title, else the file name without extension; editable. */
  name: string;
  path: string;
  storage: LibraryStorage;
  sizeBytes: number;
  /** Full SHA-256 of the file, lowercase hex. */
  sha256: string;
  /** Civitai/A1111 AutoV2: first 10 hex chars of the full SHA-256 (uppercase, as those tools show it). */
  autov2: string;
  /** AutoV3: first 12 hex chars of the SHA-256 of the bytes after the safetensors header (uppercase); null if not safetensors. */
  autov3: string | null;
  /** Detected base family identifier (e.g. 'sd15'), 'unknown' when detection could not tell. */
  family: string;
  /** What the file is, exactly (e.g. "Stable Diffusion 1.5 checkpoint", "SD1.5 UNet only (no VAE, no text encoder)"). */
  familyLabel: string;
  /**
   * False when the studio cannot use this file in its role (another family, unknown layout; a checkpoint without
   * its UNet, VAE or text encoder, or whose text encoder is not CLIP's 49,408 tokens); `supportMessage` says why.
   * Decided at import; generation pickers offer only supported items.
   */
  supported: boolean;
  supportMessage: string | null;
  /** The file's own metadata (safetensors __metadata__ strings), for the details pane. */
  metadata: Record<string, string>;
  triggerWords: string[];
  tags: string[];
  favourite: boolean;
  /** Preview image: a file path or a data: URL. */
  preview: string | null;
  /** 'user' with no preview: the creator removed it (a sidecar image re-read later does not bring it back). */
  previewSource: 'file' | 'generation' | 'user' | null;
  availability: LibraryAvailability;
  /** ISO-8601 UTC timestamps. */
  importedAt: string;
  updatedAt: string;
  checkedAt: string;
  /** The model folder the item was indexed from (null: imported one by one). */
  folderId: number | null;
}

export interface LibraryFilter {
  kind?: LibraryKind;
  family?: string;
  tag?: string;
  favourite?: boolean;
  /** true: only what the studio can use (what generation pickers offer); false: only what it cannot. */
  supported?: boolean;
  /** Case-insensitive substring of name, file path, trigger words or tags. */
  text?: string;
  availability?: LibraryAvailability;
}

export interface ImportOptions {
  /** Default 'reference'. */
  mode?: LibraryStorage;
  /** Force the kind; otherwise taken from detection (LoRA vs checkpoint vs motion module). */
  kind?: LibraryKind;
  name?: string;
  tags?: string[];
}

export interface ImportResult {
  item: LibraryItem;
  /** True when a file with the same SHA-256 was already in the library: the existing item is returned. */
  existing: boolean;
}

/** Fields a creator may edit. Absent fields are left unchanged; `preview: null` clears the preview. */
export interface LibraryItemUpdate {
  name?: string;
  triggerWords?: string[];
  tags?: string[];
  favourite?: boolean;
  preview?: string | null;
}

export interface RefreshResult {
  checked: number;
  missing: number;
  changed: number;
  items: LibraryItem[];
}

/** How a model folder is organised: which subfolders hold which kind ('plain': any file anywhere, kind detected). */
export type FolderLayout = 'a1111' | 'comfyui' | 'plain';

/** A folder of the creator's models, indexed in place (never copied). */
export interface ModelFolder {
  id: number;
  path: string;
  layout: FolderLayout;
  /** 'offline': the folder is not there now (an unplugged drive); its items are kept, marked offline. */
  status: 'ok' | 'offline';
  /** Why the last scan stopped short or what it skipped (symlink loops, too many files), if anything. */
  note: string | null;
  addedAt: string;
  scannedAt: string | null;
  /** Model files found, and how many of them are hashed and in the library, not yet hashed, or refused. */
  files: number;
  done: number;
  pending: number;
  failed: number;
}

/** A file of a folder that could not become a library item, with the reason. */
export interface FolderFileNote {
  folderId: number;
  path: string;
  note: string;
}

/**
 * What a model's sidecar files said about it (services/sidecar-merge.ts keeps them as `sidecar.*` metadata): the
 * base model it was made for and the weight its author suggests. Null where no sidecar says.
 */
export function sidecarFacts(item: Pick<LibraryItem, 'metadata'>): { baseModel: string | null; defaultWeight: number | null } {
  const w = Number(item.metadata['sidecar.preferredWeight']);
  return { baseModel: item.metadata['sidecar.baseModel'] ?? null, defaultWeight: item.metadata['sidecar.preferredWeight'] !== undefined && Number.isFinite(w) ? w : null };
}

/** Metadata keys the studio keeps for its own bookkeeping (not the file's), left out of the details' metadata list. */
export const BOOKKEEPING_METADATA = /^(file\.triggerWords|sidecar\.triggerWords|embedding\.(word|vectors|width))$/;
