import { StudioError } from '../../../shared/errors';
import type { TextualInversion } from './embedding-file';

/**
 * The embeddings of one generation as extra vocabulary. Vector k of the embeddings, in load order, gets id
 * vocabSize + k (diffusers' resized token table: EasyNegative 1000, charturnerv2 1001–1003 on a 1000-word
 * vocabulary), and its row is fed to the text encoder as `extra_token_embeddings` row k.
 *
 * Matching follows A1111 (modules/sd_hijack.py `EmbeddingDatabase.find_embedding_at_position`): the trigger
 * word is tokenized like prompt text, so it matches by token ids — case-insensitively and only on token
 * boundaries — and the longest trigger wins where several start at the same token.
 */
export interface EmbeddingMatch {
  embedding: TextualInversion;
  /** Prompt tokens the trigger word takes. */
  length: number;
  /** The ids that replace it: one placeholder per vector. */
  ids: number[];
}

export class EmbeddingVocab {
  readonly embeddings: readonly TextualInversion[];
  readonly vocabSize: number;
  /** Total vectors = rows of `rows()`. */
  readonly vectorCount: number;
  private readonly byFirst = new Map<number, Array<{ trigger: number[]; ids: number[]; embedding: TextualInversion }>>();

  constructor(embeddings: readonly TextualInversion[], tokenize: (text: string) => number[], vocabSize: number) {
    this.embeddings = embeddings;
    this.vocabSize = vocabSize;
    const seen = new Map<string, string>();
    let next = vocabSize;
    for (const e of embeddings) {
      const trigger = tokenize(e.name);
      if (trigger.length === 0) throw new StudioError('INVALID_PARAMS', `The embedding ${e.path} has no usable trigger word ("${e.name}"); rename the file to the word you want to type.`, { path: e.path });
      const key = trigger.join(',');
      const clash = seen.get(key);
      if (clash) {
        throw new StudioError('INVALID_PARAMS', `Two embeddings answer to the same word "${e.name}" (${clash} and ${e.path}); keep one of them.`, { paths: [clash, e.path] });
      }
      seen.set(key, e.path);
      const ids = Array.from({ length: e.count }, (_, k) => next + k);
      next += e.count;
      let list = this.byFirst.get(trigger[0]);
      if (!list) this.byFirst.set(trigger[0], (list = []));
      list.push({ trigger, ids, embedding: e });
      list.sort((a, b) => b.trigger.length - a.trigger.length);
    }
    this.vectorCount = next - vocabSize;
  }

  get size(): number {
    return this.embeddings.length;
  }

  /** The embedding whose trigger word starts at `tokens[at]`, longest first. */
  matchAt(tokens: readonly number[], at: number): EmbeddingMatch | undefined {
    const list = this.byFirst.get(tokens[at]);
    if (!list) return undefined;
    for (const c of list) {
      if (c.trigger.every((t, i) => tokens[at + i] === t)) return { embedding: c.embedding, length: c.trigger.length, ids: c.ids };
    }
    return undefined;
  }

  /** The embedding a placeholder id belongs to (undefined for ordinary vocabulary ids). */
  embeddingOf(id: number): TextualInversion | undefined {
    let end = this.vocabSize;
    for (const e of this.embeddings) {
      end += e.count;
      if (id >= end - e.count && id < end) return e;
    }
    return undefined;
  }

  /** Every trigger word in `tokens` replaced by its placeholder ids (the multi-vector expansion). */
  expand(tokens: readonly number[]): number[] {
    const out: number[] = [];
    for (let i = 0; i < tokens.length; ) {
      const m = this.matchAt(tokens, i);
      if (m) {
        out.push(...m.ids);
        i += m.length;
      } else {
        out.push(tokens[i++]);
      }
    }
    return out;
  }

  /** [vectorCount, width] rows in id order (at least one zero row, since the graph input cannot be empty). */
  rows(width: number): Float32Array {
    const out = new Float32Array(Math.max(1, this.vectorCount) * width);
    let at = 0;
    for (const e of this.embeddings) {
      out.set(e.vectors, at);
      at += e.vectors.length;
    }
    return out;
  }
}
