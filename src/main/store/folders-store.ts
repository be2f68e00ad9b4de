/** library_folders and folder_files: the creator's model folders and the index of their files. SQL only. */
import { StudioError } from '../../shared/errors';
import type { FolderFileNote, FolderLayout, LibraryKind, ModelFolder } from '../../shared/domain/library';
import type { StudioDatabase } from './database';
import { nowIso } from './json-columns';

interface FolderRow {
  id: number;
  path: string;
  layout: FolderLayout;
  status: 'ok' | 'offline';
  note: string | null;
  added_at: string;
  scanned_at: string | null;
  files: number;
  done: number;
  pending: number;
  failed: number;
}

/** One model file as the index records it (path relative to its folder, '/'-separated). */
export interface FolderFileRow {
  folderId: number;
  relPath: string;
  sizeBytes: number;
  mtimeMs: number;
  kindHint: LibraryKind | null;
  state: 'pending' | 'done' | 'error';
  note: string | null;
  sha256: string | null;
  itemId: number | null;
}

/** A file as a scan found it. */
export interface ScannedFile {
  relPath: string;
  sizeBytes: number;
  mtimeMs: number;
  kindHint: LibraryKind | null;
}

/** What a scan changed in the index. */
export interface ReconcileResult {
  added: number;
  removed: number;
  changed: number;
  renamed: number;
  unchanged: number;
  /** Library items whose file is gone from the folder (marked missing by the caller). */
  goneItems: number[];
  /** Library items whose file was renamed or moved inside the folder (the caller points them at the new path). */
  movedItems: { itemId: number; relPath: string; sizeBytes: number }[];
}

const FOLDER_SELECT = `SELECT f.*,
  (SELECT count(*) FROM folder_files x WHERE x.folder_id = f.id) AS files,
  (SELECT count(*) FROM folder_files x WHERE x.folder_id = f.id AND x.state = 'done') AS done,
  (SELECT count(*) FROM folder_files x WHERE x.folder_id = f.id AND x.state = 'pending') AS pending,
  (SELECT count(*) FROM folder_files x WHERE x.folder_id = f.id AND x.state = 'error') AS failed
  FROM library_folders f`;

function toFolder(r: FolderRow): ModelFolder {
  return {
    id: r.id,
    path: r.path,
    layout: r.layout,
    status: r.status,
    note: r.note,
    addedAt: r.added_at,
    scannedAt: r.scanned_at,
    files: r.files,
    done: r.done,
    pending: r.pending,
    failed: r.failed,
  };
}

interface FileRow {
  folder_id: number;
  rel_path: string;
  size_bytes: number;
  mtime_ms: number;
  kind_hint: LibraryKind | null;
  state: FolderFileRow['state'];
  note: string | null;
  sha256: string | null;
  item_id: number | null;
}

function toFile(r: FileRow): FolderFileRow {
  return {
    folderId: r.folder_id,
    relPath: r.rel_path,
    sizeBytes: r.size_bytes,
    mtimeMs: r.mtime_ms,
    kindHint: r.kind_hint,
    state: r.state,
    note: r.note,
    sha256: r.sha256,
    itemId: r.item_id,
  };
}

export class FoldersStore {
  constructor(private readonly db: StudioDatabase) {}

  add(path: string, layout: FolderLayout, now: string = nowIso()): ModelFolder {
    const id = this.db.write(() => {
      const known = this.db.stmt('SELECT id FROM library_folders WHERE path = ?').get(path) as { id: number } | undefined;
      if (known) return known.id;
      return Number(this.db.stmt('INSERT INTO library_folders (path, layout, added_at) VALUES (?, ?, ?)').run(path, layout, now).lastInsertRowid);
    });
    return this.require(id);
  }

  list(): ModelFolder[] {
    return this.db.run(() => (this.db.stmt(`${FOLDER_SELECT} ORDER BY f.id`).all() as FolderRow[]).map(toFolder));
  }

  get(id: number): ModelFolder | undefined {
    const r = this.db.run(() => this.db.stmt(`${FOLDER_SELECT} WHERE f.id = ?`).get(id)) as FolderRow | undefined;
    return r ? toFolder(r) : undefined;
  }

  /**
   * A folder's root and state without its file counts: what hashing asks per file. (`get` counts the folder's
   * files four times; per file of a 100,000-file folder that made the first hashing pass take minutes.)
   */
  root(id: number): Pick<ModelFolder, 'id' | 'path' | 'status'> | undefined {
    return this.db.run(() => this.db.stmt('SELECT id, path, status FROM library_folders WHERE id = ?').get(id)) as Pick<ModelFolder, 'id' | 'path' | 'status'> | undefined;
  }

  require(id: number): ModelFolder {
    const f = this.get(id);
    if (!f) throw new StudioError('NOT_FOUND', `There is no model folder #${id} (it may have been removed).`, { id });
    return f;
  }

  /** Forget the folder and its index; its items stay in the library (no longer tied to a folder). */
  remove(id: number): void {
    this.db.write(() => {
      this.require(id);
      this.db.stmt('DELETE FROM library_folders WHERE id = ?').run(id);
    });
  }

  setStatus(id: number, status: ModelFolder['status'], note: string | null, scannedAt: string | null = nowIso()): void {
    this.db.write(() => {
      this.db.stmt('UPDATE library_folders SET status = ?, note = ?, scanned_at = coalesce(?, scanned_at) WHERE id = ?').run(status, note, scannedAt, id);
    });
  }

  files(folderId: number): FolderFileRow[] {
    return this.db.run(() => (this.db.stmt('SELECT * FROM folder_files WHERE folder_id = ? ORDER BY rel_path').all(folderId) as FileRow[]).map(toFile));
  }

  /** The indexed files directly inside `dir` (relative to the folder, '/'-separated; '' is the folder itself). */
  filesIn(folderId: number, dir: string): FolderFileRow[] {
    const prefix = dir === '' ? '' : `${dir}/`;
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = this.db.run(() => this.db.stmt("SELECT * FROM folder_files WHERE folder_id = ? AND rel_path LIKE ? ESCAPE '\\'").all(folderId, pattern)) as FileRow[];
    return rows.filter((r) => !r.rel_path.slice(prefix.length).includes('/')).map(toFile);
  }

  /** Up to `limit` files still to hash (of one folder, or of all). */
  pending(limit: number, folderId?: number): FolderFileRow[] {
    const rows = this.db.run(() =>
      folderId === undefined
        ? this.db.stmt("SELECT * FROM folder_files WHERE state = 'pending' ORDER BY folder_id, rel_path LIMIT ?").all(limit)
        : this.db.stmt("SELECT * FROM folder_files WHERE folder_id = ? AND state = 'pending' ORDER BY rel_path LIMIT ?").all(folderId, limit),
    ) as FileRow[];
    return rows.map(toFile);
  }

  notes(folderId?: number): FolderFileNote[] {
    const rows = this.db.run(() =>
      this.db
        .stmt('SELECT folder_id, rel_path, note FROM folder_files WHERE note IS NOT NULL AND (? IS NULL OR folder_id = ?) ORDER BY folder_id, rel_path')
        .all(folderId ?? null, folderId ?? null),
    ) as { folder_id: number; rel_path: string; note: string }[];
    return rows.map((r) => ({ folderId: r.folder_id, path: r.rel_path, note: r.note }));
  }

  /** The outcome of hashing one file (only if it is still the file that was hashed: same size and mtime). */
  settle(file: FolderFileRow, outcome: { state: FolderFileRow['state']; note: string | null; sha256?: string | null; itemId?: number | null }): void {
    this.db.write(() => {
      this.db
        .stmt('UPDATE folder_files SET state = ?, note = ?, sha256 = ?, item_id = ? WHERE folder_id = ? AND rel_path = ? AND size_bytes = ? AND mtime_ms = ?')
        .run(outcome.state, outcome.note, outcome.sha256 ?? null, outcome.itemId ?? null, file.folderId, file.relPath, file.sizeBytes, file.mtimeMs);
    });
  }

  /**
   * Bring the index of `folderId` in line with what a scan found, in one transaction. Unchanged size+mtime keep
   * their hash (the cache); changed files go back to pending; a vanished file and a new one with the same size and
   * mtime are a rename (the hash moves with it); files gone for good are dropped and their items reported.
   */
  reconcile(folderId: number, found: readonly ScannedFile[]): ReconcileResult {
    return this.db.write(() => {
      const known = new Map<string, FileRow>();
      for (const r of this.db.stmt('SELECT * FROM folder_files WHERE folder_id = ?').iterate(folderId) as Iterable<FileRow>) known.set(r.rel_path, r);
      const res: ReconcileResult = { added: 0, removed: 0, changed: 0, renamed: 0, unchanged: 0, goneItems: [], movedItems: [] };
      const seen = new Set<string>();
      const fresh: ScannedFile[] = [];
      const insert = this.db.stmt('INSERT INTO folder_files (folder_id, rel_path, size_bytes, mtime_ms, kind_hint, state, note, sha256, item_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const reset = this.db.stmt("UPDATE folder_files SET size_bytes = ?, mtime_ms = ?, kind_hint = ?, state = 'pending', note = NULL, sha256 = NULL WHERE folder_id = ? AND rel_path = ?");
      const drop = this.db.stmt('DELETE FROM folder_files WHERE folder_id = ? AND rel_path = ?');
      for (const f of found) {
        seen.add(f.relPath);
        const k = known.get(f.relPath);
        if (!k) fresh.push(f);
        else if (k.size_bytes === f.sizeBytes && k.mtime_ms === Math.trunc(f.mtimeMs)) res.unchanged++;
        else {
          reset.run(f.sizeBytes, Math.trunc(f.mtimeMs), f.kindHint, folderId, f.relPath);
          res.changed++;
        }
      }
      const vanished = new Map<string, FileRow>();
      for (const [rel, r] of known) if (!seen.has(rel)) vanished.set(`${r.size_bytes}:${r.mtime_ms}`, r);
      for (const f of fresh) {
        const was = vanished.get(`${f.sizeBytes}:${Math.trunc(f.mtimeMs)}`);
        if (was) {
          // A rename keeps size and mtime: carry the hash and the item over instead of hashing gigabytes again.
          vanished.delete(`${f.sizeBytes}:${Math.trunc(f.mtimeMs)}`);
          known.delete(was.rel_path);
          drop.run(folderId, was.rel_path);
          insert.run(folderId, f.relPath, f.sizeBytes, Math.trunc(f.mtimeMs), f.kindHint, was.state, was.note, was.sha256, was.item_id);
          if (was.item_id !== null) res.movedItems.push({ itemId: was.item_id, relPath: f.relPath, sizeBytes: f.sizeBytes });
          res.renamed++;
        } else {
          insert.run(folderId, f.relPath, f.sizeBytes, Math.trunc(f.mtimeMs), f.kindHint, 'pending', null, null, null);
          res.added++;
        }
      }
      for (const r of vanished.values()) {
        drop.run(folderId, r.rel_path);
        res.removed++;
        if (r.item_id !== null) res.goneItems.push(r.item_id);
      }
      return res;
    });
  }
}
