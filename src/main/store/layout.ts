import { isAbsolute, join, relative, resolve } from 'node:path';

/** Where things live inside a data folder. One place, so services, CLI and tests agree. */
export interface DataLayout {
  root: string;
  /** The SQLite database; `-wal` and `-shm` files sit next to it while open. */
  database: string;
  /** One folder per generation: outputs/<id>/ (frames, clips, thumbnail). */
  outputs: string;
  /** Files imported with "copy": library/<sha8>-<file name>. */
  library: string;
  /** Stored image/video inputs of generations, under their hash (generation-input.ts), and their thumbnails. */
  inputs: string;
  /** Exported clips when the creator does not pick a destination. */
  exports: string;
  /** Work folders of a single run (frames of a CLI video made without a history record), named as temporaries. */
  scratch: string;
  /** Folders outside the data folder where a running process has temporaries (temp-places.ts). */
  tempPlaces: string;
  /** Generate's ControlNet previews: control-previews/<key>/frame-NNNN.png (key: the unit's input, preprocessor, clip size). */
  controlPreviews: string;
}

export const DATABASE_FILE = 'studio.db';

export function dataLayout(dataDir: string): DataLayout {
  return {
    root: dataDir,
    database: join(dataDir, DATABASE_FILE),
    outputs: join(dataDir, 'outputs'),
    library: join(dataDir, 'library'),
    exports: join(dataDir, 'exports'),
    inputs: join(dataDir, 'inputs'),
    scratch: join(dataDir, 'scratch'),
    tempPlaces: join(dataDir, 'temp-places'),
    controlPreviews: join(dataDir, 'control-previews'),
  };
}

/** True when `child` is `parent` or inside it (lexically; both resolved to absolute paths first). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
