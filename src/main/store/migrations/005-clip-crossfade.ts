import type { Migration } from './migration';

/** Crossfades between timeline clips: how many seconds a clip fades in over the end of the one before it. */
export const migration005ClipCrossfade: Migration = {
  version: 5,
  name: 'clip-crossfade',
  up(db) {
    db.exec('ALTER TABLE timeline_clips ADD COLUMN crossfade REAL NOT NULL DEFAULT 0 CHECK (crossfade >= 0)');
  },
};
