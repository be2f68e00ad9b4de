import type { Migration } from './migration';

/**
 * Model folders indexed in place (an A1111 or ComfyUI root, or any folder). Three changes:
 *
 * - `library_items` is rebuilt (SQLite cannot change a CHECK): more kinds (motion LoRA, embedding, VAE, ControlNet),
 *   availability 'offline' (its folder's drive is not there: not deleted), and `folder_id`, the folder it came from.
 *   Rows are copied with their ids, so nothing that points at an item changes meaning.
 * - `library_folders`: the folders the creator added, their layout and the state of their last scan.
 * - `folder_files`: one row per model file found in a folder — the index, and the hash cache: a file whose size and
 *   mtime are unchanged is not hashed again. `state` says where it is (pending → done | error) and `note` why.
 */
export const migration006ModelFolders: Migration = {
  version: 6,
  name: 'model-folders',
  up(db) {
    db.exec(`
      CREATE TABLE library_folders (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        path        TEXT NOT NULL UNIQUE,
        layout      TEXT NOT NULL CHECK (layout IN ('a1111', 'comfyui', 'plain')),
        status      TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'offline')),
        note        TEXT,
        added_at    TEXT NOT NULL,
        scanned_at  TEXT
      );

      CREATE TABLE library_items_v5 (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kind             TEXT NOT NULL CHECK (kind IN ('checkpoint', 'motion', 'motion-lora', 'lora', 'embedding', 'vae', 'controlnet')),
        name             TEXT NOT NULL,
        path             TEXT NOT NULL,
        storage          TEXT NOT NULL CHECK (storage IN ('reference', 'copy')),
        size_bytes       INTEGER NOT NULL,
        sha256           TEXT NOT NULL UNIQUE,
        autov2           TEXT NOT NULL,
        autov3           TEXT,
        family           TEXT NOT NULL,
        family_label     TEXT NOT NULL,
        supported        INTEGER NOT NULL,
        support_message  TEXT,
        metadata_json    TEXT NOT NULL DEFAULT '{}',
        trigger_words_json TEXT NOT NULL DEFAULT '[]',
        tags_json        TEXT NOT NULL DEFAULT '[]',
        favourite        INTEGER NOT NULL DEFAULT 0,
        preview          TEXT,
        preview_source   TEXT CHECK (preview_source IN ('file', 'generation', 'user')),
        availability     TEXT NOT NULL DEFAULT 'ok' CHECK (availability IN ('ok', 'missing', 'changed', 'offline')),
        imported_at      TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        checked_at       TEXT NOT NULL,
        folder_id        INTEGER REFERENCES library_folders(id) ON DELETE SET NULL
      );
      INSERT INTO library_items_v5 (id, kind, name, path, storage, size_bytes, sha256, autov2, autov3, family, family_label, supported,
        support_message, metadata_json, trigger_words_json, tags_json, favourite, preview, preview_source, availability, imported_at, updated_at, checked_at)
      SELECT id, kind, name, path, storage, size_bytes, sha256, autov2, autov3, family, family_label, supported,
        support_message, metadata_json, trigger_words_json, tags_json, favourite, preview, preview_source, availability, imported_at, updated_at, checked_at
      FROM library_items;
      DROP TABLE library_items;
      ALTER TABLE library_items_v5 RENAME TO library_items;
      CREATE INDEX library_items_kind ON library_items(kind, name);
      CREATE INDEX library_items_autov2 ON library_items(autov2);
      CREATE INDEX library_items_folder ON library_items(folder_id);

      CREATE TABLE folder_files (
        folder_id   INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
        rel_path    TEXT NOT NULL,
        size_bytes  INTEGER NOT NULL,
        mtime_ms    INTEGER NOT NULL,
        kind_hint   TEXT,
        state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'error')),
        note        TEXT,
        sha256      TEXT,
        item_id     INTEGER REFERENCES library_items(id) ON DELETE SET NULL,
        PRIMARY KEY (folder_id, rel_path)
      ) WITHOUT ROWID;
      CREATE INDEX folder_files_state ON folder_files(folder_id, state);
    `);
  },
};
