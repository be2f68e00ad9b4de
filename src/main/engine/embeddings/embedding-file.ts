import { basename, extname } from 'node:path';
import { StudioError } from '../../../shared/errors';
import { openModel } from '../../compiler/io/open';
import type { TensorTable, TensorView } from '../../compiler/io/tensor';

/**
 * A textual-inversion embedding file → its vectors. Three layouts hold the same thing, n vectors of the text
 * encoder's width D:
 *  - A1111 `.pt` (`Embedding.save`): `string_to_param: {"*": [n, D]}` plus `name`, `step`, … (read as data by
 *    compiler/io's pickle reader, which flattens the dict to `string_to_param.*` and the scalars to metadata);
 *  - kohya sd-scripts / Civitai `.safetensors`: `emb_params` [n, D];
 *  - diffusers `learned_embeds.{bin,safetensors}`: `{<token>: [D] | [n, D]}` (one key).
 * The trigger word follows A1111: the file stem (`EasyNegative.safetensors` → "EasyNegative"). A diffusers file
 * saved under its default name (`learned_embeds…`) has no useful stem, so its own key names it.
 */
export type EmbeddingFormat = 'a1111_pt' | 'a1111_safetensors' | 'diffusers';

export interface TextualInversion {
  /** The word that calls it in a prompt. */
  name: string;
  path: string;
  format: EmbeddingFormat;
  /** Vectors (rows of the token table it adds). */
  count: number;
  width: number;
  /** [count, width], row-major. */
  vectors: Float32Array;
}

/** Text-encoder widths of the families people download embeddings for (SD1.x CLIP-L, SD2 OpenCLIP-H). */
const WIDTH_FAMILY: Record<number, string> = { 768: 'Stable Diffusion 1.x', 1024: 'Stable Diffusion 2.x', 1280: 'SDXL (OpenCLIP bigG)' };

/** The word that calls an embedding: the file stem, except a diffusers file under its default name (its key). */
export function embeddingWord(path: string, format: EmbeddingFormat, key: string): string {
  const file = basename(path);
  const stem = basename(file, extname(file));
  return format === 'diffusers' && stem.startsWith('learned_embeds') ? key : stem;
}

/** `width`: the text encoder's (checked); omitted only where no model is involved (the token counter). */
export function readEmbeddingFile(path: string, opts: { width?: number; name?: string }): TextualInversion {
  const file = basename(path);
  const table = openModel(path);
  try {
    const { view, format } = embeddingLayout(table);
    const shape = view.shape;
    const count = shape.length === 1 ? 1 : shape[0];
    const width = shape[shape.length - 1];
    if (opts.width !== undefined && width !== opts.width) {
      const family = WIDTH_FAMILY[width];
      throw new StudioError(
        'MODEL_SHAPE_MISMATCH',
        `${file} is a textual-inversion embedding ${width} wide${family ? ` (made for ${family})` : ''}; this model's text encoder is ${opts.width} wide${WIDTH_FAMILY[opts.width] ? ` (${WIDTH_FAMILY[opts.width]})` : ''}. Pick a version of this embedding made for SD1.5.`,
        { path, width, expected: opts.width },
      );
    }
    if (count < 1) throw new StudioError('FORMAT_MISMATCH', `${file} holds an embedding with no vectors.`, { path });
    const vectors = view.readF32();
    if (!vectors.every(Number.isFinite)) throw new StudioError('FORMAT_MISMATCH', `${file} holds NaN or infinite values; the file is damaged. Download it again.`, { path });
    const name = opts.name ?? embeddingWord(path, format, view.name);
    return { name, path, format, count, width, vectors: Float32Array.from(vectors) };
  } finally {
    table.close();
  }
}

/**
 * Where an opened file keeps its embedding vectors, by layout. Throws FORMAT_MISMATCH when the file is not an
 * embedding and MODEL_FAMILY_UNSUPPORTED for SDXL embeddings (`clip_g` + `clip_l`).
 */
export function embeddingLayout(table: TensorTable): { view: TensorView; format: EmbeddingFormat; count: number; width: number } {
  const { view, format } = findVectors(table);
  return { view, format, count: view.shape.length === 1 ? 1 : view.shape[0], width: view.shape[view.shape.length - 1] };
}

function findVectors(table: TensorTable): { view: TensorView; format: EmbeddingFormat } {
  const names = table.names();
  const path = table.path;
  const file = basename(path);
  if (names.some((n) => n === 'clip_g' || n === 'clip_l')) {
    throw new StudioError('MODEL_FAMILY_UNSUPPORTED', `${file} is an SDXL embedding (clip_g / clip_l vectors); AnimateLCM uses SD1.5 models. Pick the SD1.5 version of this embedding.`, { path, keys: names.slice(0, 4) });
  }
  const a1111 = names.filter((n) => n.startsWith('string_to_param.'));
  if (a1111.length === 1) return { view: vectorView(table, a1111[0], file), format: 'a1111_pt' };
  if (a1111.length > 1) throw notEmbedding(file, path, `it holds ${a1111.length} embeddings (string_to_param keys); the studio reads one per file`);
  if (names.includes('emb_params')) return { view: vectorView(table, 'emb_params', file), format: 'a1111_safetensors' };
  if (names.length === 1) return { view: vectorView(table, names[0], file), format: 'diffusers' };
  throw notEmbedding(file, path, names.length === 0 ? 'it holds no tensors' : `it holds ${names.length} tensors (e.g. ${names.slice(0, 2).join(', ')}) and none of the embedding layouts`);
}

function vectorView(table: TensorTable, key: string, file: string): TensorView {
  const v = table.get(key)!;
  if (v.shape.length !== 1 && v.shape.length !== 2) throw notEmbedding(file, table.path, `its tensor ${key} has shape ${JSON.stringify(v.shape)}, not [vectors, width]`);
  return v;
}

function notEmbedding(file: string, path: string, why: string): StudioError {
  return new StudioError(
    'FORMAT_MISMATCH',
    `${file} is not a textual-inversion embedding: ${why}. Embeddings are A1111 .pt files (string_to_param), .safetensors with emb_params, or diffusers learned_embeds files.`,
    { path },
  );
}
