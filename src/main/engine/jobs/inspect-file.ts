/**
 * What the library needs to know about a file, built on the compiler's readers: `openModel` (format sniffed from
 * the bytes, header limits checked, no code execution), `detectModel` (family from tensor shapes; LoRA base from
 * shapes, then metadata), `checkpointUsability` (complete? a text encoder the tokenizer can feed?),
 * `readLoraMetadata` (title, trigger words, embedded thumbnail) and `hashModelFile` (SHA-256, AutoV2, AutoV3 in
 * one streaming pass). Runs in the engine worker for the studio (inspect-file-job.ts), in-process for the CLI.
 */
import { basename } from 'node:path';
import { hashModelFile } from '../../compiler/io/hash';
import { openModel } from '../../compiler/io/open';
import { detectModel, type Detected } from '../../compiler/families/detect';
import { readLoraMetadata } from '../../compiler/families/lora-metadata';
import { checkpointUsability } from '../../compiler/families/usability';
import type { LibraryKind } from '../../../shared/domain/library';
import { isStudioError } from '../../../shared/errors';
import { embeddingLayout, embeddingWord } from '../embeddings/embedding-file';
import type { TensorTable } from '../../compiler/io/tensor';

export interface InspectedFile {
  /** null when the file's layout did not say (the creator then picks). */
  kind: LibraryKind | null;
  family: string;
  /** What the file is, exactly: "Stable Diffusion 1.5 checkpoint", "SD1.5 UNet only (no VAE, no text encoder)", … */
  familyLabel: string;
  /** Whether the studio can use the file in its role (a checkpoint: complete, SD1.5, a CLIP-vocabulary text encoder). */
  supported: boolean;
  supportMessage: string | null;
  /** Lowercase hex. */
  sha256: string;
  /** 10 hex chars (AutoV2). */
  autov2: string;
  /** 12 hex chars (AutoV3, safetensors only). */
  autov3: string | null;
  metadata: Record<string, string>;
  /** A human title from the metadata (modelspec.title, ss_output_name), if any. */
  title: string | null;
  triggerWords: string[];
  /** data: URL from the file's metadata, if any. */
  thumbnail: string | null;
}

const LORA_BASE_LABEL: Record<string, string> = { sd15: 'SD1.5', sdxl: 'SDXL', sd2: 'SD2.x', unknown: 'Unknown base' };

/** What the library calls a detected family. Text encoders alone are not library items (null). */
function kindOf(d: Detected): LibraryKind | null {
  if (d.family === 'lora') return d.lora?.motion ? 'motion-lora' : 'lora';
  if (d.family === 'vae') return 'vae';
  if (d.family === 'motion') return 'motion';
  if (d.family === 'sd15' || d.family === 'unet' || d.family === 'sdxl' || d.family === 'sd2' || d.family === 'sd15_inpaint') return 'checkpoint';
  return null;
}

/**
 * LoRAs are badged by the base model they were trained for (what decides whether they fit); checkpoints by what
 * they hold and whether they can run; motion modules by their variant.
 */
function familyOf(d: Detected): Pick<InspectedFile, 'family' | 'familyLabel' | 'supported' | 'supportMessage'> {
  if (d.lora) {
    const base = d.lora.base;
    const message =
      d.message ?? (base === 'unknown' ? 'The file does not say which base model it was made for; it is checked against the model when it is applied.' : null);
    return { family: base, familyLabel: LORA_BASE_LABEL[base] ?? base, supported: d.supported, supportMessage: message };
  }
  if (kindOf(d) === 'checkpoint') {
    const u = checkpointUsability(d);
    return { family: d.family, familyLabel: u.label, supported: u.usable, supportMessage: u.message };
  }
  return { family: d.family, familyLabel: d.label, supported: d.supported, supportMessage: d.message ?? null };
}

const OTHER_FAMILY_WIDTHS: Record<number, string> = { 1024: 'an SD2.x', 1280: 'an SDXL' };

/**
 * A textual-inversion embedding's verdict, or null when the tensors are not one. `words` is what the Generate
 * place shows and inserts (the word that calls it, its vector count and width), kept as `embedding.*` metadata.
 */
function embeddingVerdict(table: TensorTable, path: string): (Pick<InspectedFile, 'kind' | 'family' | 'familyLabel' | 'supported' | 'supportMessage'> & { words: Record<string, string> }) | null {
  try {
    const e = embeddingLayout(table);
    const word = embeddingWord(path, e.format, e.view.name);
    // 1024 and 1280 wide are SD2 / SDXL embeddings: refused here. Any other width is checked against the model's
    // text encoder when it is used (test models and fine-tunes can be narrower).
    const other = OTHER_FAMILY_WIDTHS[e.width];
    return {
      kind: 'embedding',
      family: e.width === 768 ? 'sd15' : other ? 'other' : 'unknown',
      familyLabel: `Embedding, ${e.count} vector(s) of width ${e.width}`,
      supported: !other,
      supportMessage: other ? `It is ${other} embedding (${e.width}-wide vectors); SD1.5's text encoder takes 768-wide ones.` : null,
      words: { 'embedding.word': word, 'embedding.vectors': String(e.count), 'embedding.width': String(e.width) },
    };
  } catch (err) {
    if (isStudioError(err)) return null;
    throw err;
  }
}

export async function inspectModelFile(path: string): Promise<InspectedFile> {
  const table = openModel(path);
  let detected: Detected;
  let meta: ReturnType<typeof readLoraMetadata>;
  let embedding: ReturnType<typeof embeddingVerdict> = null;
  try {
    detected = detectModel(table);
    meta = readLoraMetadata(table);
    if (detected.family === 'unknown') embedding = embeddingVerdict(table, path);
  } finally {
    table.close();
  }
  const hashes = await hashModelFile(path);
  const { words, ...embeddingFields } = embedding ?? { words: {} };
  return {
    kind: kindOf(detected),
    ...familyOf(detected),
    ...embeddingFields,
    sha256: hashes.sha256.toLowerCase(),
    autov2: hashes.autov2.toUpperCase(),
    autov3: hashes.autov3?.toUpperCase() ?? null,
    metadata: { ...meta.raw, ...words },
    title: meta.title ?? null,
    triggerWords: meta.triggerWords,
    thumbnail: meta.thumbnail ?? null,
  };
}

/** Display name when the metadata has no title: the file name without its extension. */
export function nameFromPath(path: string): string {
  return basename(path).replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');
}
