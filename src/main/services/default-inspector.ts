/**
 * The real FileInspector, built on the compiler's readers: `openModel` (format from the bytes, bounds-checked, no
 * code execution), `detectModel` (family from tensor shapes; LoRA base from shapes, then metadata),
 * `readLoraMetadata` (title, trigger words, embedded thumbnail) and `hashModelFile` (SHA-256, AutoV2, AutoV3 in one
 * streaming pass). This file only maps their answers onto what the library stores.
 */
import { basename } from 'node:path';
import { hashModelFile } from '../compiler/io/hash';
import { openModel } from '../compiler/io/open';
import { detectModel, type Detected } from '../compiler/families/detect';
import { readLoraMetadata } from '../compiler/families/lora-metadata';
import type { LibraryKind } from '../../shared/domain/library';
import type { FileInspector, InspectedFile } from './library-inspector';

const LORA_BASE_LABEL: Record<string, string> = { sd15: 'SD1.5', sdxl: 'SDXL', sd2: 'SD2.x', unknown: 'Unknown base' };

/** What the library calls a detected family. VAEs and text encoders alone are not library items (null). */
function kindOf(d: Detected): LibraryKind | null {
  if (d.family === 'lora') return 'lora';
  if (d.family === 'motion') return 'motion';
  if (d.family === 'sd15' || d.family === 'unet' || d.family === 'sdxl' || d.family === 'sd2' || d.family === 'sd15_inpaint') return 'checkpoint';
  return null;
}

/** LoRAs are badged by the base model they were trained for (what decides whether they fit); models by their own family. */
function familyOf(d: Detected): Pick<InspectedFile, 'family' | 'familyLabel' | 'supported' | 'supportMessage'> {
  if (d.lora) {
    const base = d.lora.base;
    const message =
      d.message ?? (base === 'unknown' ? 'The file does not say which base model it was made for; it is checked against the model when it is applied.' : null);
    return { family: base, familyLabel: LORA_BASE_LABEL[base] ?? base, supported: d.supported, supportMessage: message };
  }
  return { family: d.family, familyLabel: d.label, supported: d.supported, supportMessage: d.message ?? null };
}

export const inspectModelFile: FileInspector = async (path) => {
  const table = openModel(path);
  let detected: Detected;
  let meta: ReturnType<typeof readLoraMetadata>;
  try {
    detected = detectModel(table);
    meta = readLoraMetadata(table);
  } finally {
    table.close();
  }
  const hashes = await hashModelFile(path);
  return {
    kind: kindOf(detected),
    ...familyOf(detected),
    sha256: hashes.sha256.toLowerCase(),
    autov2: hashes.autov2.toUpperCase(),
    autov3: hashes.autov3?.toUpperCase() ?? null,
    metadata: meta.raw,
    title: meta.title ?? null,
    triggerWords: meta.triggerWords,
    thumbnail: meta.thumbnail ?? null,
  };
};

/** Display name when the metadata has no title: the file name without its extension. */
export function nameFromPath(path: string): string {
  return basename(path).replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');
}
