import type { Migration } from './migration';

/**
 * Timelines (projects) and their clips. Positions are renumbered densely (0…n−1) by the store on every change,
 * so there is no UNIQUE(timeline_id, position) to dodge while shuffling. Deleting a generation removes the clips
 * cut from it (the service reports how many).
 */
export const migration003Timelines: Migration = {
  version: 3,
  name: 'timelines',
  up(db) {
    db.exec(`
      CREATE TABLE timelines (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );

      CREATE TABLE timeline_clips (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        timeline_id    INTEGER NOT NULL REFERENCES timelines(id) ON DELETE CASCADE,
        position       INTEGER NOT NULL,
        generation_id  INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
        in_frame       INTEGER NOT NULL CHECK (in_frame >= 0),
        out_frame      INTEGER NOT NULL CHECK (out_frame > in_frame),
        speed          REAL NOT NULL DEFAULT 1 CHECK (speed > 0)
      );
      CREATE INDEX timeline_clips_order ON timeline_clips(timeline_id, position);
      CREATE INDEX timeline_clips_generation ON timeline_clips(generation_id);
    `);
  },
};
