/**
 * How a model's sidecars (model-sidecars.ts) fold into its library item: when the item is created from a folder
 * (`withSidecars`) and again whenever a sidecar is added, edited or removed (`residecar`), without hashing the model.
 * Preview image; trigger words from the activation text and Civitai's trained words — when they exist, the words
 * the file's own metadata lists (training tags) become tags; base model, preferred weight, notes, description and
 * what was skipped in the metadata under `sidecar.*`. The file's own words are kept as `file.triggerWords` and the
 * sidecars' as `sidecar.triggerWords`, so a later change can tell the sidecars' words from the creator's edits.
 */
import type { LibraryItem } from '../../shared/domain/library';
import type { InspectedFile } from './library-inspector';
import type { Sidecars } from './model-sidecars';

const SIDECAR_KEY = /^sidecar\./;

function sidecarMetadata(side: Sidecars): Record<string, string> {
  const m: Record<string, string> = {};
  if (side.baseModel) m['sidecar.baseModel'] = side.baseModel;
  if (side.defaultWeight !== null) m['sidecar.preferredWeight'] = String(side.defaultWeight);
  if (side.notes) m['sidecar.notes'] = side.notes;
  if (side.description) m['sidecar.description'] = side.description;
  if (side.problems.length) m['sidecar.problems'] = side.problems.join('\n');
  if (side.triggerWords.length) m['sidecar.triggerWords'] = JSON.stringify(side.triggerWords);
  return m;
}

function words(json: string | undefined): string[] | null {
  if (json === undefined) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((w) => typeof w === 'string') ? v : null;
  } catch {
    return null;
  }
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((w, i) => w === b[i]);

/** A file's inspection with its sidecars folded in, for a new item. */
export function withSidecars(info: InspectedFile, side: Sidecars): { info: InspectedFile; tags: string[] } {
  const metadata = { ...info.metadata, ...sidecarMetadata(side), 'file.triggerWords': JSON.stringify(info.triggerWords) };
  const own = side.triggerWords.length > 0;
  return {
    info: { ...info, metadata, triggerWords: own ? side.triggerWords : info.triggerWords, thumbnail: side.preview ?? info.thumbnail },
    tags: own ? info.triggerWords : [],
  };
}

/**
 * The item as its sidecars say now. Trigger words follow the sidecars only while they are still what the
 * sidecars (or, without any, the file) gave — words the creator edited in the studio stay. A preview the creator
 * chose, or one taken from a generation, stays; a sidecar preview follows its file (gone → none).
 */
export function residecar(item: LibraryItem, side: Sidecars): Pick<LibraryItem, 'metadata' | 'triggerWords' | 'preview' | 'previewSource'> {
  const kept = Object.fromEntries(Object.entries(item.metadata).filter(([k]) => !SIDECAR_KEY.test(k)));
  const lastSide = words(item.metadata['sidecar.triggerWords']) ?? [];
  // Items indexed before the file's words were recorded: with sidecar words, the file's went to the tags.
  const fileWords = words(item.metadata['file.triggerWords']) ?? (lastSide.length ? item.tags : item.triggerWords);
  const edited = !same(item.triggerWords, lastSide.length ? lastSide : fileWords);
  const triggerWords = edited ? item.triggerWords : side.triggerWords.length ? side.triggerWords : fileWords;

  let preview = item.preview;
  if (item.previewSource === null || item.previewSource === 'file') {
    // A data: URL is the thumbnail inside the model file: a sidecar image replaces it, as at indexing.
    if (side.preview) preview = side.preview;
    else if (preview !== null && !preview.startsWith('data:')) preview = null;
  }
  return { metadata: { ...kept, ...sidecarMetadata(side) }, triggerWords, preview, previewSource: preview === item.preview ? item.previewSource : preview === null ? null : 'file' };
}
