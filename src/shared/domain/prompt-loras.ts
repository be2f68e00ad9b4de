/**
 * A1111's `<lora:name:weight>` prompt tags: the studio applies them by moving each tag into the LoRA stack (a
 * library LoRA found by name or file name) and taking it out of the text the encoder reads, as A1111 does. A tag
 * naming no library LoRA is refused with its name rather than dropped.
 */
import type { GenerationParams, LoraRef } from './generation';
import type { LibraryItem } from './library';

export interface PromptLoraTag {
  name: string;
  weight: number;
  /** The tag as written, e.g. "<lora:ink:0.7>". */
  text: string;
}

const TAG = /<(?:lora|lyco):([^:>]+)(?::\s*(-?\d+(?:\.\d+)?|-?\.\d+))?(?::[^>]*)?>/gi;

/** The tags in the prompt and the prompt without them (whitespace and commas left tidy). */
export function extractPromptLoras(prompt: string): { prompt: string; tags: PromptLoraTag[] } {
  const tags: PromptLoraTag[] = [];
  const stripped = prompt.replace(TAG, (text: string, name: string, weight: string | undefined) => {
    tags.push({ name: name.trim(), weight: weight === undefined ? 1 : Number(weight), text });
    return '';
  });
  if (tags.length === 0) return { prompt, tags };
  const tidy = stripped
    .replace(/\s*,(\s*,)+/g, ',')
    .replace(/\s{2,}/g, ' ')
    .replace(/^[\s,]+|[\s,]+$/g, '');
  return { prompt: tidy, tags };
}

const stem = (path: string) => (path.split(/[\\/]/).pop() ?? path).replace(/\.(safetensors|ckpt|pt|bin)$/i, '');

/** The library LoRA a tag names: by display name, else by file name without extension (case-insensitive). */
export function findLoraForTag(tag: PromptLoraTag, library: readonly LibraryItem[]): LibraryItem | undefined {
  const want = tag.name.toLowerCase();
  return library.find((l) => l.name.toLowerCase() === want) ?? library.find((l) => stem(l.path).toLowerCase() === want);
}

export type AppliedPromptLoras = { ok: true; params: GenerationParams; applied: PromptLoraTag[] } | { ok: false; missing: PromptLoraTag[] };

/**
 * The parameters the engine gets: tags removed from the prompt, each tag's LoRA in the stack at the tag's weight
 * (a LoRA already in the stack takes the tag's weight and is enabled). Refused when a tag names no library LoRA.
 */
export function applyPromptLoras(params: GenerationParams, library: readonly LibraryItem[]): AppliedPromptLoras {
  const { prompt, tags } = extractPromptLoras(params.prompt);
  if (tags.length === 0) return { ok: true, params, applied: [] };
  const missing = tags.filter((t) => !findLoraForTag(t, library));
  if (missing.length > 0) return { ok: false, missing };
  const loras: LoraRef[] = [...params.loras];
  for (const tag of tags) {
    const item = findLoraForTag(tag, library) as LibraryItem;
    const at = loras.findIndex((l) => l.path === item.path);
    const ref: LoraRef = { path: item.path, weight: tag.weight, enabled: true, name: item.name, sha256: item.sha256 };
    if (at >= 0) loras[at] = { ...loras[at], weight: tag.weight, enabled: true };
    else loras.push(ref);
  }
  return { ok: true, params: { ...params, prompt, loras }, applied: tags };
}
