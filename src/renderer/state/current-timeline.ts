/**
 * Which timeline "Send to timeline" adds to: the one open in the Timeline place, else the most recently changed,
 * else a new one. Kept outside React state so History and Timeline agree without a provider.
 */
import { useSyncExternalStore } from 'react';
import type { StudioApi } from '../../shared/api';

let current: number | null = null;
const listeners = new Set<() => void>();

export function setCurrentTimeline(id: number | null): void {
  current = id;
  for (const l of listeners) l();
}

export function useCurrentTimeline(): number | null {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

export async function targetTimeline(api: StudioApi): Promise<number> {
  if (current !== null) return current;
  const list = await api.listTimelines();
  const latest = [...list].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
  const id = latest ? latest.id : (await api.createTimeline('My timeline')).id;
  setCurrentTimeline(id);
  return id;
}
