import type { Migration } from './migration';

/** Marks the file as ours (`PRAGMA application_id`, 'ALCS') and creates the model/LoRA library. */
export const STUDIO_APPLICATION_ID = 0x414c4353;

export const migration001Library: Migration = {
  version: 1,
  name: 'library',
  up(db) {
    db.pragma(`application_id = ${STUDIO_APPLICATION_ID}`);
    db.exec(`
      CREATE TABLE studio_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE library_items (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kind             TEXT NOT NULL CHECK (kind IN ('checkpoint', 'motion', 'lora')),
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
        availability     TEXT NOT NULL DEFAULT 'ok' CHECK (availability IN ('ok', 'missing', 'changed')),
        imported_at      TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        checked_at       TEXT NOT NULL
      );
      CREATE INDEX library_items_kind ON library_items(kind, name);
      CREATE INDEX library_items_autov2 ON library_items(autov2);
    `);
  },
};
