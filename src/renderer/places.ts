/**
 * The studio's places. Each says what it will hold; the panels themselves arrive with the features they
 * draw (issue 9). Until then a place describes itself — it neither invents data nor claims to be empty.
 */
export type PlaceId = 'generate' | 'library' | 'timeline' | 'history' | 'settings';

export interface Place {
  id: PlaceId;
  label: string;
  /** One line under the heading. */
  summary: string;
  /** What the empty state says will be here. */
  empty: string;
}

export const PLACES: readonly Place[] = [
  {
    id: 'generate',
    label: 'Generate',
    summary: 'Prompt in, short animated clip out.',
    empty:
      'Describe a scene, pick a model and motion module, stack LoRAs with their weights, and set seed, steps, guidance, frames and size. Queued jobs show their progress and a live preview here.',
  },
  {
    id: 'library',
    label: 'Library',
    summary: 'Your checkpoints, motion modules and LoRAs.',
    empty:
      'Imported checkpoints, motion modules and LoRAs appear here as cards with their base family, trigger words, size and hash; files the studio cannot use say why.',
  },
  {
    id: 'timeline',
    label: 'Timeline',
    summary: 'Put clips in order, trim them, export.',
    empty: 'Clips sent here from History play in order: trim and reorder them, then export MP4, WebM, GIF or PNG frames.',
  },
  {
    id: 'history',
    label: 'History',
    summary: 'Every clip you made, ready to make again.',
    empty:
      'Each clip you make is kept here with everything needed to make it again: re-roll, re-run exactly, reuse its settings, or send it to the timeline.',
  },
  {
    id: 'settings',
    label: 'Settings',
    summary: 'Where the engine runs and what a new generation starts from.',
    empty: 'Execution provider order, threads, the data folder and the defaults for new generations.',
  },
];

export function placeFromHash(hash: string): PlaceId {
  const id = hash.replace(/^#\/?/, '');
  return PLACES.find((p) => p.id === id)?.id ?? 'generate';
}
