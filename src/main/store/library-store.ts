/** The library_items table: models, motion modules and LoRAs. SQL only; hashing and file copies live in LibraryService. */
import { StudioError } from '../../shared/errors';
import type { LibraryAvailability, LibraryFilter, LibraryItem, LibraryItemUpdate, LibraryKind, LibraryStorage } from '../../shared/domain/library';
import type { StudioDatabase } from './database';
import { nowIso, parseStringArray, parseStringRecord } from './json-columns';

interface LibraryRow {
  id: number;
  kind: LibraryKind;
  name: string;
  path: string;
  storage: LibraryStorage;
  size_bytes: number;
  sha256: string;
  autov2: string;
  autov3: string | null;
  family: string;
  family_label: string;
  supported: number;
  support_message: string | null;
  metadata_json: string;
  trigger_words_json: string;
  tags_json: string;
  favourite: number;
  preview: string | null;
  preview_source: LibraryItem['previewSource'];
  availability: LibraryAvailability;
  imported_at: string;
  updated_at: string;
  checked_at: string;
  folder_id: number | null;
}

/** Everything known about a file at import time: an item before the store gives it an id, state and timestamps. */
export type NewLibraryItem = Omit<LibraryItem, 'id' | 'favourite' | 'previewSource' | 'availability' | 'importedAt' | 'updatedAt' | 'checkedAt' | 'folderId'> & {
  folderId?: number | null;
};

function toItem(r: LibraryRow): LibraryItem {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    path: r.path,
    storage: r.storage,
    sizeBytes: r.size_bytes,
    sha256: r.sha256,
    autov2: r.autov2,
    autov3: r.autov3,
    family: r.family,
    familyLabel: r.family_label,
    supported: r.supported === 1,
    supportMessage: r.support_message,
    metadata: parseStringRecord(r.metadata_json),
    triggerWords: parseStringArray(r.trigger_words_json),
    tags: parseStringArray(r.tags_json),
    favourite: r.favourite === 1,
    preview: r.preview,
    previewSource: r.preview_source,
    availability: r.availability,
    importedAt: r.imported_at,
    updatedAt: r.updated_at,
    checkedAt: r.checked_at,
    folderId: r.folder_id ?? null,
  };
}

/** Trimmed, non-empty, de-duplicated (first spelling wins, case-insensitively). */
export function cleanWords(words: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const w of words) {
    const t = w.trim();
    if (!t || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

export class LibraryStore {
  constructor(private readonly db: StudioDatabase) {}

  insert(item: NewLibraryItem, now: string = nowIso()): LibraryItem {
    const id = this.db.write(() => {
      const info = this.db
        .stmt(
          `INSERT INTO library_items (kind, name, path, storage, size_bytes, sha256, autov2, autov3, family, family_label, supported,
             support_message, metadata_json, trigger_words_json, tags_json, preview, preview_source, availability, imported_at, updated_at, checked_at, folder_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)`,
        )
        .run(
          item.kind,
          item.name,
          item.path,
          item.storage,
          item.sizeBytes,
          item.sha256.toLowerCase(),
          item.autov2.toUpperCase(),
          item.autov3?.toUpperCase() ?? null,
          item.family,
          item.familyLabel,
          item.supported ? 1 : 0,
          item.supportMessage,
          JSON.stringify(item.metadata),
          JSON.stringify(cleanWords(item.triggerWords)),
          JSON.stringify(cleanWords(item.tags)),
          item.preview,
          item.preview ? 'file' : null,
          now,
          now,
          now,
          item.folderId ?? null,
        );
      return Number(info.lastInsertRowid);
    });
    return this.require(id);
  }

  get(id: number): LibraryItem | undefined {
    const r = this.db.run(() => this.db.stmt('SELECT * FROM library_items WHERE id = ?').get(id)) as LibraryRow | undefined;
    return r ? toItem(r) : undefined;
  }

  require(id: number): LibraryItem {
    const item = this.get(id);
    if (!item) throw new StudioError('NOT_FOUND', `There is no library item #${id} (it may have been removed).`, { id });
    return item;
  }

  bySha256(sha256: string): LibraryItem | undefined {
    const r = this.db.run(() => this.db.stmt('SELECT * FROM library_items WHERE sha256 = ?').get(sha256.toLowerCase())) as LibraryRow | undefined;
    return r ? toItem(r) : undefined;
  }

  list(filter: LibraryFilter = {}): LibraryItem[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.kind) {
      where.push('kind = ?');
      args.push(filter.kind);
    }
    if (filter.family) {
      where.push('family = ?');
      args.push(filter.family);
    }
    if (filter.favourite !== undefined) {
      where.push('favourite = ?');
      args.push(filter.favourite ? 1 : 0);
    }
    if (filter.supported !== undefined) {
      where.push('supported = ?');
      args.push(filter.supported ? 1 : 0);
    }
    if (filter.availability) {
      where.push('availability = ?');
      args.push(filter.availability);
    }
    if (filter.tag) {
      where.push('EXISTS (SELECT 1 FROM json_each(tags_json) WHERE lower(value) = lower(?))');
      args.push(filter.tag);
    }
    if (filter.text?.trim()) {
      // instr on lower(): a plain substring match, no LIKE wildcards to escape.
      where.push('(instr(lower(name), ?) > 0 OR instr(lower(path), ?) > 0 OR instr(lower(trigger_words_json), ?) > 0 OR instr(lower(tags_json), ?) > 0)');
      const t = filter.text.trim().toLowerCase();
      args.push(t, t, t, t);
    }
    const sql = `SELECT * FROM library_items ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY kind, lower(name), id`;
    return this.db.run(() => (this.db.sqlite.prepare(sql).all(...args) as LibraryRow[]).map(toItem));
  }

  update(id: number, patch: LibraryItemUpdate, now: string = nowIso()): LibraryItem {
    this.db.write(() => {
      this.require(id);
      const sets: string[] = [];
      const args: unknown[] = [];
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        if (!name) throw new StudioError('BAD_REQUEST', 'A library item needs a name.', { id });
        sets.push('name = ?');
        args.push(name);
      }
      if (patch.triggerWords !== undefined) {
        sets.push('trigger_words_json = ?');
        args.push(JSON.stringify(cleanWords(patch.triggerWords)));
      }
      if (patch.tags !== undefined) {
        sets.push('tags_json = ?');
        args.push(JSON.stringify(cleanWords(patch.tags)));
      }
      if (patch.favourite !== undefined) {
        sets.push('favourite = ?');
        args.push(patch.favourite ? 1 : 0);
      }
      if (patch.preview !== undefined) {
        // Removing a preview is the creator's choice too ('user' with no preview): a sidecar image re-read on a
        // rescan does not bring it back (services/sidecar-merge.ts).
        sets.push('preview = ?', 'preview_source = ?');
        args.push(patch.preview, 'user');
      }
      if (sets.length === 0) return;
      sets.push('updated_at = ?');
      args.push(now, id);
      this.db.sqlite.prepare(`UPDATE library_items SET ${sets.join(', ')} WHERE id = ?`).run(...args);
    });
    return this.require(id);
  }

  /**
   * What a model's sidecar files say now (they were added, edited or removed): metadata, trigger words and the
   * preview as the caller decided them (services/sidecar-refresh.ts keeps the creator's own edits). Nothing else
   * about the item changes: its hash, name and tags are the file's and the creator's.
   */
  applySidecars(id: number, next: Pick<LibraryItem, 'metadata' | 'triggerWords' | 'preview' | 'previewSource'>, now: string = nowIso()): LibraryItem {
    this.db.write(() => {
      this.db
        .stmt('UPDATE library_items SET metadata_json = ?, trigger_words_json = ?, preview = ?, preview_source = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(next.metadata), JSON.stringify(cleanWords(next.triggerWords)), next.preview, next.previewSource, now, id);
    });
    return this.require(id);
  }

  /** Point an item at a (new) location, e.g. when a missing file is imported again from where it now lives. */
  relocate(id: number, path: string, storage: LibraryStorage, sizeBytes: number, now: string = nowIso(), folderId: number | null = null): LibraryItem {
    this.db.write(() => {
      this.db
        .stmt("UPDATE library_items SET path = ?, storage = ?, size_bytes = ?, availability = 'ok', checked_at = ?, updated_at = ?, folder_id = ? WHERE id = ?")
        .run(path, storage, sizeBytes, now, now, folderId, id);
    });
    return this.require(id);
  }

  /**
   * What a file is and whether it can be used, as a newer inspection of the same bytes says (the rules grow:
   * an item imported before completeness was checked is corrected when it is imported again).
   */
  reclassify(id: number, verdict: Pick<LibraryItem, 'family' | 'familyLabel' | 'supported' | 'supportMessage'>, now: string = nowIso()): LibraryItem {
    this.db.write(() => {
      this.db
        .stmt('UPDATE library_items SET family = ?, family_label = ?, supported = ?, support_message = ?, updated_at = ? WHERE id = ?')
        .run(verdict.family, verdict.familyLabel, verdict.supported ? 1 : 0, verdict.supportMessage, now, id);
    });
    return this.require(id);
  }

  setAvailability(changes: { id: number; availability: LibraryAvailability }[], now: string = nowIso()): void {
    this.db.write(() => {
      const s = this.db.stmt('UPDATE library_items SET availability = ?, checked_at = ? WHERE id = ?');
      for (const c of changes) s.run(c.availability, now, c.id);
    });
  }

  /** Every item indexed from folder `folderId` takes `availability` (offline while its drive is away, ok when back). */
  setFolderAvailability(folderId: number, from: LibraryAvailability | null, to: LibraryAvailability, now: string = nowIso()): void {
    this.db.write(() => {
      this.db.stmt('UPDATE library_items SET availability = ?, checked_at = ? WHERE folder_id = ? AND (? IS NULL OR availability = ?)').run(to, now, folderId, from, from);
    });
  }

  remove(id: number): LibraryItem {
    return this.db.write(() => {
      const item = this.require(id);
      this.db.stmt('DELETE FROM library_items WHERE id = ?').run(id);
      return item;
    });
  }
}
