/**
 * The real FileInspector: opens the file with the compiler's container readers (bounds-checked, no code execution),
 * hashes it in one streaming pass and reads kind, family and trigger words from its keys and metadata.
 *
 * Family detection and LoRA metadata reading belong to src/main/compiler/families (detect.ts, lora-metadata.ts);
 * until those land, the small key/metadata rules below stand in, and this file is the one place to switch over.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { openModel } from '../compiler/io/open';
import type { LibraryKind } from '../../shared/domain/library';
import type { FileInspector, InspectedFile } from './library-inspector';

export interface FileHashes {
  sha256: string;
  autov2: string;
  autov3: string | null;
}

/**
 * Full-file SHA-256 (→ AutoV2, first 10 hex) and, for safetensors, the SHA-256 of the bytes after the header
 * (→ AutoV3, first 12 hex; the kohya "addnet hash", unchanged by metadata edits), in one read of the file.
 */
export async function hashFile(path: string, safetensors: boolean): Promise<FileHashes> {
  let dataStart = -1;
  if (safetensors) {
    const fh = await open(path, 'r');
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await fh.read(head, 0, 8, 0);
      if (bytesRead === 8) dataStart = 8 + Number(head.readBigUInt64LE(0));
    } finally {
      await fh.close();
    }
  }
  const full = createHash('sha256');
  const tensors = dataStart >= 0 ? createHash('sha256') : undefined;
  let offset = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    full.update(chunk);
    if (tensors) {
      const from = Math.max(0, dataStart - offset);
      if (from < chunk.length) tensors.update(from === 0 ? chunk : chunk.subarray(from));
    }
    offset += chunk.length;
  }
  const sha256 = full.digest('hex');
  return { sha256, autov2: sha256.slice(0, 10).toUpperCase(), autov3: tensors ? tensors.digest('hex').slice(0, 12).toUpperCase() : null };
}

const LORA_KEY = /(lora_(up|down|A|B)\b|\.lora\.(up|down)\b|hada_w[12]_[ab]|lokr_w[12]|\.alpha$)/;

function guessKind(names: string[]): LibraryKind | null {
  if (names.some((n) => LORA_KEY.test(n))) return 'lora';
  if (names.length > 0 && names.every((n) => n.includes('motion_modules') || n.startsWith('mid_block.motion') || n.includes('pos_encoder'))) return 'motion';
  if (names.some((n) => n.includes('motion_modules'))) return 'motion';
  if (names.length > 0) return 'checkpoint';
  return null;
}

function guessFamily(kind: LibraryKind | null, meta: Record<string, string>): Pick<InspectedFile, 'family' | 'familyLabel' | 'supported' | 'supportMessage'> {
  const base = (meta['ss_base_model_version'] ?? '').toLowerCase();
  const arch = (meta['modelspec.architecture'] ?? '').toLowerCase();
  if (base.startsWith('sdxl') || arch.startsWith('stable-diffusion-xl')) {
    return { family: 'sdxl', familyLabel: 'SDXL', supported: false, supportMessage: 'This was made for SDXL; AnimateLCM needs SD1.5 models and LoRAs.' };
  }
  if (base.startsWith('sd_v2') || meta['ss_v2'] === 'True' || arch.startsWith('stable-diffusion-v2')) {
    return { family: 'sd2', familyLabel: 'SD2', supported: false, supportMessage: 'This was made for Stable Diffusion 2; AnimateLCM needs SD1.5 models and LoRAs.' };
  }
  if (base === 'sd_v1' || arch.startsWith('stable-diffusion-v1')) return { family: 'sd15', familyLabel: 'SD1.5', supported: true, supportMessage: null };
  if (kind === 'motion') return { family: 'animatediff', familyLabel: 'AnimateDiff motion module', supported: true, supportMessage: null };
  return {
    family: 'unknown',
    familyLabel: 'Unknown base',
    supported: true,
    supportMessage: 'The file does not say which base model it was made for; it is checked when it is used.',
  };
}

/**
 * Trigger words: the author's `modelspec.trigger_phrase` if present; otherwise the tags that appear on every
 * training image of a dataset folder (kohya `ss_tag_frequency`), which is how trigger words are usually trained.
 */
function guessTriggerWords(meta: Record<string, string>): string[] {
  const phrase = meta['modelspec.trigger_phrase'];
  if (phrase) return phrase.split(',').map((s) => s.trim()).filter(Boolean);
  const freq = meta['ss_tag_frequency'];
  if (!freq) return [];
  try {
    const dirs = JSON.parse(freq) as Record<string, Record<string, number>>;
    const words: string[] = [];
    for (const tags of Object.values(dirs)) {
      const counts = Object.values(tags);
      if (counts.length === 0) continue;
      const max = Math.max(...counts);
      for (const [tag, n] of Object.entries(tags)) if (n === max && !words.includes(tag.trim())) words.push(tag.trim());
    }
    return words.slice(0, 5);
  } catch {
    return [];
  }
}

export const inspectModelFile: FileInspector = async (path) => {
  const table = openModel(path);
  let names: string[];
  let metadata: Record<string, string>;
  let container: string;
  try {
    names = table.names();
    metadata = { ...table.metadata };
    container = table.container;
  } finally {
    table.close();
  }
  const hashes = await hashFile(path, container === 'safetensors');
  const kind = guessKind(names);
  const thumb = metadata['modelspec.thumbnail'];
  return {
    kind,
    ...guessFamily(kind, metadata),
    ...hashes,
    metadata,
    title: metadata['modelspec.title'] ?? metadata['ss_output_name'] ?? null,
    triggerWords: guessTriggerWords(metadata),
    thumbnail: thumb && thumb.startsWith('data:image/') ? thumb : null,
  };
};

/** Display name when the metadata has no title: the file name without its extension. */
export function nameFromPath(path: string): string {
  return basename(path).replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');
}
