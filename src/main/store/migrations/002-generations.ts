import type { Migration } from './migration';

/**
 * Generation history. Parameters are kept whole as JSON (the reproducible truth) and the fields people filter on
 * are copied into columns; the LoRA stack gets its own table so "every clip made with this LoRA" is an index
 * lookup. Prompt search is FTS5 over an external-content table kept in step by triggers.
 * AUTOINCREMENT: ids of deleted records are never reused, so "history show 12" never silently means another clip.
 */
export const migration002Generations: Migration = {
  version: 2,
  name: 'generations',
  up(db) {
    db.exec(`
      CREATE TABLE generations (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
        params_json      TEXT NOT NULL,
        prompt           TEXT NOT NULL,
        negative_prompt  TEXT NOT NULL,
        seed             INTEGER NOT NULL,
        model_path       TEXT,
        model_sha256     TEXT,
        motion_path      TEXT,
        motion_sha256    TEXT,
        lcm_lora_sha256  TEXT,
        noise_generator  TEXT NOT NULL,
        noise_version    TEXT NOT NULL,
        engine_version   TEXT NOT NULL,
        origin           TEXT NOT NULL DEFAULT 'new' CHECK (origin IN ('new', 'reroll', 'rerun')),
        parent_id        INTEGER REFERENCES generations(id) ON DELETE SET NULL,
        favourite        INTEGER NOT NULL DEFAULT 0,
        timings_json     TEXT NOT NULL DEFAULT '{}',
        error_json       TEXT,
        outputs_json     TEXT,
        owner_pid        INTEGER,
        owner_token      TEXT,
        created_at       TEXT NOT NULL,
        started_at       TEXT,
        finished_at      TEXT
      );
      CREATE INDEX generations_created ON generations(created_at);
      CREATE INDEX generations_status ON generations(status);
      CREATE INDEX generations_model ON generations(model_sha256);
      CREATE INDEX generations_favourite ON generations(favourite) WHERE favourite = 1;

      CREATE TABLE generation_loras (
        generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        path          TEXT NOT NULL,
        sha256        TEXT,
        weight        REAL NOT NULL,
        enabled       INTEGER NOT NULL,
        PRIMARY KEY (generation_id, position)
      );
      CREATE INDEX generation_loras_sha256 ON generation_loras(sha256);
      CREATE INDEX generation_loras_path ON generation_loras(path);

      CREATE VIRTUAL TABLE generations_fts USING fts5(
        prompt, negative_prompt,
        content = 'generations', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
        INSERT INTO generations_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
      END;
      CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
        INSERT INTO generations_fts(generations_fts, rowid, prompt, negative_prompt)
          VALUES ('delete', old.id, old.prompt, old.negative_prompt);
      END;
      CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, negative_prompt ON generations BEGIN
        INSERT INTO generations_fts(generations_fts, rowid, prompt, negative_prompt)
          VALUES ('delete', old.id, old.prompt, old.negative_prompt);
        INSERT INTO generations_fts(rowid, prompt, negative_prompt) VALUES (new.id, new.prompt, new.negative_prompt);
      END;
    `);
  },
};
