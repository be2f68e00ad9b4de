/**
 * Library names for stored paths and hashes: a history record keeps the file path and SHA-256 it was made with,
 * the creator knows the file by its library name. Loaded once per place; a file no longer in the library is shown
 * by its file name.
 */
import { useCallback, useMemo } from 'react';
import type { LibraryItem } from '../../shared/domain/library';
import { useStudioApi } from './studio-api';
import { useLoad } from './use-load';

export interface LibraryNames {
  checkpoints: LibraryItem[];
  motions: LibraryItem[];
  loras: LibraryItem[];
  /** The library name of the file at `path` (or with this SHA-256), else its file name; `fallback` when no path. */
  nameOf(path: string | undefined, sha256?: string | null, fallback?: string): string;
}

export function useLibraryNames(): LibraryNames {
  const api = useStudioApi();
  const models = useLoad(() => api.listModels(), [api]);
  const loras = useLoad(() => api.listLoras(), [api]);
  const all = useMemo(() => [...(models.value ?? []), ...(loras.value ?? [])], [models.value, loras.value]);
  const nameOf = useCallback(
    (path: string | undefined, sha256?: string | null, fallback = '—') => {
      if (!path) return fallback;
      const item = all.find((i) => i.path === path) ?? (sha256 ? all.find((i) => i.sha256 === sha256) : undefined);
      return item?.name ?? path.split(/[\\/]/).pop() ?? path;
    },
    [all],
  );
  return {
    checkpoints: (models.value ?? []).filter((m) => m.kind === 'checkpoint'),
    motions: (models.value ?? []).filter((m) => m.kind === 'motion'),
    loras: loras.value ?? [],
    nameOf,
  };
}
