import type { LibraryItem } from '../../../shared/domain/library';

/** The file name without its folder and extension: A1111's rule for the word that calls an embedding. */
export function fileStem(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.(safetensors|pt|pth|bin|ckpt)$/i, '');
}

/**
 * The word a prompt uses to call a library embedding: the one recorded at import (`embedding.word`, which knows the
 * diffusers exception), else the file stem for items indexed before the word was recorded.
 */
export function embeddingWord(item: Pick<LibraryItem, 'path' | 'metadata'>): string {
  return item.metadata['embedding.word'] || fileStem(item.path);
}

/** How many prompt tokens the embedding takes, when the import recorded it. */
export function embeddingVectors(item: Pick<LibraryItem, 'metadata'>): number | null {
  const n = Number(item.metadata['embedding.vectors']);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** `text` with `word` appended as one more comma-separated term (the A1111 habit), unless it is already there. */
export function withWord(text: string, word: string): string {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (new RegExp(`(^|[^\\w])${escaped}([^\\w]|$)`).test(text)) return text;
  const trimmed = text.replace(/[\s,]+$/, '');
  return trimmed === '' ? word : `${trimmed}, ${word}`;
}

/** Why a library item cannot be picked now (offline drive, moved file, another family), or null when it can. */
export function unavailableReason(item: Pick<LibraryItem, 'availability' | 'supported' | 'supportMessage'>): string | null {
  if (item.availability === 'offline') return 'offline: its model folder is not there now';
  if (item.availability === 'missing') return 'missing: the file was moved or deleted';
  if (item.availability === 'changed') return 'changed since import: re-import it';
  if (!item.supported) return item.supportMessage ?? 'cannot be used with this studio';
  return null;
}
