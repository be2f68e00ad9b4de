import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { StudioError } from '../../../shared/errors';
import { cleanPrompt } from './text-cleanup';

/**
 * CLIP's byte-level BPE tokenizer, as openai/CLIP `clip/simple_tokenizer.py` (and so SD1.x) tokenizes: clean-up
 * (text-cleanup.ts), the CLIP regex, bytes mapped to printable characters, BPE merges by rank, one id per
 * vocabulary string. Vocabulary: resources/clip/bpe_simple_vocab_16e6.txt.gz (MIT, see resources/clip/LICENSE).
 */
export const CLIP_VOCAB_FILE = 'resources/clip/bpe_simple_vocab_16e6.txt.gz';
export const CONTEXT_LENGTH = 77;
/** Body tokens per 77-token chunk (BOS and EOS take the other two). */
export const CHUNK_BODY = 75;

/**
 * The CLIP pre-tokenizer (`regex` module, IGNORECASE; the text is already lower-case): special tokens,
 * contractions, letter runs, single digits, runs of other non-space characters. `\s` here is Unicode White_Space
 * (after clean-up only U+0020 remains).
 */
const PRETOKENIZE =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\p{L}\p{N}]+/giu;

/** CLIP's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the rest are shifted to U+0100…. */
function bytesToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return table;
}

/** Walks up from this module (source tree, or a bundle in out/) to find a file shipped under the app root. */
export function resolveResource(rel: string): string {
  const roots: string[] = [];
  const env = process.env.ANIMATELCM_RESOURCES_DIR;
  if (env) roots.push(resolve(env, '..'));
  const resourcesPath = (process as NodeJS.Process & { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) roots.push(resourcesPath, join(resourcesPath, 'app.asar.unpacked'), join(resourcesPath, 'app'));
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    roots.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  roots.push(process.cwd());
  for (const r of roots) {
    const p = join(r, rel);
    if (existsSync(p)) return p;
  }
  throw new StudioError('FILE_NOT_FOUND', `The CLIP vocabulary (${rel}) is missing from this installation; reinstall the app.`, { rel, searched: roots });
}

const cache = new Map<string, ClipTokenizer>();

export class ClipTokenizer {
  readonly bos: number;
  readonly eos: number;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  private readonly ranks: Map<string, number>;
  private readonly byteEncoder = bytesToUnicode();
  private readonly byteDecoder: Map<string, number>;
  private readonly bpeCache = new Map<string, string[]>([
    ['<|startoftext|>', ['<|startoftext|>']],
    ['<|endoftext|>', ['<|endoftext|>']],
  ]);

  private constructor(mergesText: string) {
    // Line 0 is a header; CLIP keeps merges 1 .. 49152−256−2 (48,894 of them).
    const lines = mergesText.split('\n').slice(1, 49152 - 256 - 2 + 1);
    const merges = lines.map((l) => l.split(/\s+/).filter((s) => s.length > 0));
    // CLIP lists the byte characters in `bytes_to_unicode` insertion order: printable bytes, then the shifted ones.
    const byteChars = [...this.byteEncoder].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
    const vocab = [...byteChars, ...byteChars.map((c) => c + '</w>')];
    this.ranks = new Map();
    merges.forEach((m, i) => {
      vocab.push(m.join(''));
      this.ranks.set(`${m[0]} ${m[1]}`, i);
    });
    vocab.push('<|startoftext|>', '<|endoftext|>');
    this.decoder = vocab;
    this.encoder = new Map(vocab.map((v, i) => [v, i]));
    this.byteDecoder = new Map(this.byteEncoder.map((c, b) => [c, b]));
    this.bos = this.encoder.get('<|startoftext|>') ?? -1;
    this.eos = this.encoder.get('<|endoftext|>') ?? -1;
    this.vocabSize = vocab.length;
  }

  /** Loads (once per path) the gzipped merges file; default: the vocabulary shipped with the app. */
  static load(vocabGzPath?: string): ClipTokenizer {
    const path = vocabGzPath ?? resolveResource(CLIP_VOCAB_FILE);
    const hit = cache.get(path);
    if (hit) return hit;
    let text: string;
    try {
      text = gunzipSync(readFileSync(path)).toString('utf8');
    } catch (e) {
      throw new StudioError('FILE_UNREADABLE', `Could not read the CLIP vocabulary at ${path}.`, { path }, { cause: e });
    }
    const tok = new ClipTokenizer(text);
    cache.set(path, tok);
    return tok;
  }

  /**
   * A tokenizer from plain merges text (`merges.txt`, header line first), e.g. a model's own truncated vocabulary;
   * ids follow CLIP's construction (bytes, bytes + `</w>`, merges, then the two special tokens).
   */
  static fromMerges(mergesText: string): ClipTokenizer {
    return new ClipTokenizer(mergesText.replace(/\s+$/, ''));
  }

  /** The cleaned text and its vocabulary strings (for debugging and the golden tests). */
  bpeTokens(text: string): string[] {
    const out: string[] = [];
    const clean = cleanPrompt(text);
    const utf8 = new TextEncoder();
    for (const m of clean.matchAll(PRETOKENIZE)) {
      let mapped = '';
      for (const b of utf8.encode(m[0])) mapped += this.byteEncoder[b];
      out.push(...this.bpe(mapped));
    }
    return out;
  }

  /** Body ids: no BOS/EOS, no truncation. */
  encode(text: string): number[] {
    return this.bpeTokens(text).map((t) => {
      const id = this.encoder.get(t);
      if (id === undefined) throw new Error(`BPE produced "${t}", which is not in the vocabulary`);
      return id;
    });
  }

  /** The SD1.x 77-id input: BOS + body[:75] + EOS, padded with EOS (49407). */
  inputIds(text: string): number[] {
    const body = this.encode(text).slice(0, CHUNK_BODY);
    const ids = [this.bos, ...body, this.eos];
    while (ids.length < CONTEXT_LENGTH) ids.push(this.eos);
    return ids;
  }

  /** CLIP's decode: vocabulary strings joined, bytes decoded as UTF-8 (invalid → U+FFFD), `</w>` → space. */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const s = this.decoder[id];
      if (s === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
      // Every character of a vocabulary string (including '</w>' and the special tokens) is a mapped byte.
      for (const ch of s) bytes.push(this.byteDecoder.get(ch) ?? 0x3f);
    }
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes)).replaceAll('</w>', ' ');
  }

  private bpe(token: string): string[] {
    const hit = this.bpeCache.get(token);
    if (hit) return hit;
    const chars = Array.from(token);
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    if (word.length === 1) {
      this.bpeCache.set(token, word);
      return word;
    }
    for (;;) {
      let best: [string, string] | undefined;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = [word[i], word[i + 1]];
        }
      }
      if (!best) break;
      const [first, second] = best;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
      if (word.length === 1) break;
    }
    this.bpeCache.set(token, word);
    return word;
  }
}
