import { CHUNK_BODY, CONTEXT_LENGTH, type ClipTokenizer } from './clip-tokenizer';

/**
 * Prompt emphasis, in the two dialects people paste from:
 * - **A1111** (`modules/prompt_parser.py:parse_prompt_attention`, `modules/sd_hijack_clip.py`): `(x)` ×1.1,
 *   `(x:w)` ×w, `[x]` ÷1.1, nesting multiplies, `\(` `\)` `\[` `\]` `\\` escapes, unbalanced openers closed at the
 *   end, `BREAK` ends a 75-token chunk, commas pull a short tail into the next chunk (comma_padding_backtrack 20).
 *   Weighting: scale the encoder output per token, then restore the chunk's mean ("Original").
 * - **ComfyUI** (`comfy/sd1_clip.py`): `(x)` ×1.1 and `(x:w)` sets w, `\(` `\)` escapes; `[x]` and BREAK are
 *   literal; a word group under 8 tokens never straddles chunks. Weighting: lerp from the empty prompt's encoding.
 * Read for reference, written anew; A1111's doctests are among our test vectors.
 */
export type WeightingMode = 'a1111' | 'comfy';

export interface PromptEncodingOptions {
  mode?: WeightingMode;
  /**
   * CLIP skip in A1111's convention (1 = last layer, 2 = penultimate + final LayerNorm). Applied by the text
   * encoder graph, carried here so prompt options travel together.
   */
  clipSkip?: number;
  /** A1111 `comma_padding_backtrack` (tokens; 0 disables). Default 20, A1111's default. */
  commaPaddingBacktrack?: number;
}

export interface WeightedChunk {
  /** 77 ids: BOS, 75 body/padding tokens, EOS (SD1.x pads with EOS). */
  ids: number[];
  /** 77 multipliers, 1.0 at BOS, EOS and padding. */
  weights: number[];
}

export interface WeightedChunks {
  chunks: WeightedChunk[];
}

/** One parsed span; the marker `['BREAK', -1]` separates chunks. */
export type AttentionSpan = [string, number];

const RE_ATTENTION = /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()[\]:]+|:/gu;
/** `\s*\bBREAK\b\s*` with Unicode-aware word boundaries, as Python's `re` has them. */
const RE_BREAK = /[\s]*(?<![\p{L}\p{N}_])BREAK(?![\p{L}\p{N}_])[\s]*/u;

/** A1111 `parse_prompt_attention`: text → [text, weight] spans, equal-weight neighbours merged. */
export function parsePromptAttention(text: string): AttentionSpan[] {
  const res: AttentionSpan[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyRange = (start: number, m: number): void => {
    for (let p = start; p < res.length; p++) res[p][1] *= m;
  };
  for (const m of text.matchAll(RE_ATTENTION)) {
    const t = m[0];
    const weightText = m[1];
    const weight = weightText === undefined ? Number.NaN : Number(weightText);
    if (t.startsWith('\\')) {
      res.push([t.slice(1), 1.0]);
    } else if (t === '(') {
      round.push(res.length);
    } else if (t === '[') {
      square.push(res.length);
    } else if (weightText !== undefined && !Number.isNaN(weight) && round.length > 0) {
      multiplyRange(round.pop() as number, weight);
    } else if (t === ')' && round.length > 0) {
      multiplyRange(round.pop() as number, 1.1);
    } else if (t === ']' && square.length > 0) {
      multiplyRange(square.pop() as number, 1 / 1.1);
    } else {
      // (A1111 raises on a malformed weight like `:1.2.3)`; we keep it as text.)
      splitBreak(t).forEach((part, i) => {
        if (i > 0) res.push(['BREAK', -1]);
        res.push([part, 1.0]);
      });
    }
  }
  for (const pos of round) multiplyRange(pos, 1.1);
  for (const pos of square) multiplyRange(pos, 1 / 1.1);
  if (res.length === 0) res.push(['', 1.0]);
  for (let i = 0; i + 1 < res.length; ) {
    if (res[i][1] === res[i + 1][1]) {
      res[i][0] += res[i + 1][0];
      res.splice(i + 1, 1);
    } else {
      i++;
    }
  }
  return res;
}

function splitBreak(text: string): string[] {
  const parts: string[] = [];
  let rest = text;
  for (;;) {
    const m = RE_BREAK.exec(rest);
    if (!m) break;
    parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts;
}

/** ComfyUI `token_weights` (after `escape_important`): nested `(…)` groups, `(x:w)` replacing the weight. */
export function parseComfyWeights(text: string): AttentionSpan[] {
  // \( and \) become private markers so they are not brackets (ComfyUI uses "\0\1" / "\0\2").
  const escaped = text.replaceAll('\\)', '\u0000\u0001').replaceAll('\\(', '\u0000\u0002');
  const unescape = (s: string): string => s.replaceAll('\u0000\u0001', ')').replaceAll('\u0000\u0002', '(');
  return comfyTokenWeights(escaped, 1.0).map(([s, w]) => [unescape(s), w]);
}

/**
 * ComfyUI recurses once per nesting level; a pasted prompt can nest thousands deep, so this walks the same
 * levels with an explicit stack (same spans, same order, no call-stack limit).
 */
function comfyTokenWeights(text: string, current: number): AttentionSpan[] {
  const out: AttentionSpan[] = [];
  const levels: { parts: string[]; next: number; weight: number }[] = [{ parts: parseParentheses(text), next: 0, weight: current }];
  while (levels.length > 0) {
    const level = levels[levels.length - 1];
    if (level.next >= level.parts.length) {
      levels.pop();
      continue;
    }
    let x = level.parts[level.next++];
    if (x.length >= 2 && x.endsWith(')') && x.startsWith('(')) {
      x = x.slice(1, -1);
      let weight = level.weight * 1.1;
      const colon = x.lastIndexOf(':');
      if (colon > 0) {
        const parsed = pythonFloat(x.slice(colon + 1));
        if (parsed !== undefined) {
          weight = parsed;
          x = x.slice(0, colon);
        }
      }
      levels.push({ parts: parseParentheses(x), next: 0, weight });
    } else {
      out.push([x, level.weight]);
    }
  }
  return out;
}

/** Python `float(str)` for the forms a weight takes (whitespace allowed around it). */
function pythonFloat(s: string): number | undefined {
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf(inity)?|nan)$/i.test(t)) return undefined;
  const lower = t.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

/** ComfyUI `parse_parentheses`: the top-level `(…)` groups and the text between them (slices, not char appends). */
function parseParentheses(s: string): string[] {
  const result: string[] = [];
  let start = 0;
  let level = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x28 /* ( */) {
      if (level === 0 && i > start) {
        result.push(s.slice(start, i));
        start = i;
      }
      level++;
    } else if (c === 0x29 /* ) */) {
      level--;
      if (level === 0) {
        result.push(s.slice(start, i + 1));
        start = i + 1;
      }
    }
  }
  if (start < s.length) result.push(s.slice(start));
  return result;
}

/** Tokenizes a weighted prompt into 77-token chunks (75 body tokens each) with per-token weights. */
export function tokenizeWeighted(tokenizer: ClipTokenizer, text: string, opts: PromptEncodingOptions = {}): WeightedChunks {
  return (opts.mode ?? 'a1111') === 'comfy' ? chunksComfy(tokenizer, text) : chunksA1111(tokenizer, text, opts.commaPaddingBacktrack ?? 20);
}

function finishChunk(tok: ClipTokenizer, ids: number[], weights: number[]): WeightedChunk {
  const padIds = [...ids];
  const padW = [...weights];
  while (padIds.length < CHUNK_BODY) {
    padIds.push(tok.eos);
    padW.push(1.0);
  }
  return { ids: [tok.bos, ...padIds, tok.eos], weights: [1.0, ...padW, 1.0] };
}

/** The chunk an empty prompt makes: BOS, then EOS to the end. */
export function emptyChunk(tok: ClipTokenizer): WeightedChunk {
  return finishChunk(tok, [], []);
}

/** A1111 `tokenize_line` without textual inversion: see the module comment. */
function chunksA1111(tok: ClipTokenizer, text: string, backtrack: number): WeightedChunks {
  const parsed = parsePromptAttention(text);
  const chunks: WeightedChunk[] = [];
  let ids: number[] = [];
  let ws: number[] = [];
  let lastComma = -1;
  const comma = tok.encode(',')[0];
  const next = (): void => {
    chunks.push(finishChunk(tok, ids, ws));
    ids = [];
    ws = [];
    lastComma = -1;
  };
  for (const [span, weight] of parsed) {
    if (span === 'BREAK' && weight === -1) {
      next();
      continue;
    }
    for (const token of tok.encode(span)) {
      if (token === comma) {
        lastComma = ids.length;
      } else if (backtrack !== 0 && ids.length === CHUNK_BODY && lastComma !== -1 && ids.length - lastComma <= backtrack) {
        const at = lastComma + 1;
        const relocIds = ids.slice(at);
        const relocWs = ws.slice(at);
        ids = ids.slice(0, at);
        ws = ws.slice(0, at);
        next();
        ids = relocIds;
        ws = relocWs;
      }
      if (ids.length === CHUNK_BODY) next();
      ids.push(token);
      ws.push(weight);
    }
  }
  if (ids.length > 0 || chunks.length === 0) next();
  return { chunks };
}

/** ComfyUI `tokenize_with_weights` for SD1 (pad with EOS, 77 per chunk, groups < 8 tokens kept whole). */
function chunksComfy(tok: ClipTokenizer, text: string): WeightedChunks {
  const MAX_WORD = 8;
  const groups: Array<Array<[number, number]>> = [];
  for (const [span, weight] of parseComfyWeights(text)) {
    // ComfyUI splits only at " embedding:" markers; without embeddings each span is one group.
    if (span === '') continue;
    groups.push(tok.encode(span).map((t) => [t, weight] as [number, number]));
  }
  const chunks: WeightedChunk[] = [];
  let ids: number[] = [];
  let ws: number[] = [];
  const flush = (): void => {
    chunks.push(finishChunk(tok, ids, ws));
    ids = [];
    ws = [];
  };
  for (let group of groups) {
    const isLarge = group.length >= MAX_WORD;
    while (group.length > 0) {
      if (group.length + ids.length > CHUNK_BODY) {
        if (isLarge) {
          const room = CHUNK_BODY - ids.length;
          for (const [t, w] of group.slice(0, room)) {
            ids.push(t);
            ws.push(w);
          }
          group = group.slice(room);
        }
        flush();
      } else {
        for (const [t, w] of group) {
          ids.push(t);
          ws.push(w);
        }
        group = [];
      }
    }
  }
  flush();
  return { chunks };
}

/**
 * Pads the shorter of positive/negative with empty chunks (BOS + EOS…, weights 1) so both give the same 77·k
 * context, as A1111 does. BOS/EOS are read from the existing chunks (every prompt has at least one).
 */
export function padChunks(pos: WeightedChunks, neg: WeightedChunks): [WeightedChunks, WeightedChunks] {
  const template = pos.chunks[0] ?? neg.chunks[0];
  if (!template) return [pos, neg];
  const bos = template.ids[0];
  const eos = template.ids[CONTEXT_LENGTH - 1];
  const empty = (): WeightedChunk => ({
    ids: [bos, ...new Array<number>(CONTEXT_LENGTH - 1).fill(eos)],
    weights: new Array<number>(CONTEXT_LENGTH).fill(1.0),
  });
  const k = Math.max(pos.chunks.length, neg.chunks.length);
  const pad = (c: WeightedChunks): WeightedChunks => ({
    chunks: [...c.chunks, ...Array.from({ length: k - c.chunks.length }, empty)],
  });
  return [pad(pos), pad(neg)];
}

/** The chunks' ids (or weights) concatenated: the 77·k sequence the text encoder and UNet see. */
export function flattenIds(c: WeightedChunks): number[] {
  return c.chunks.flatMap((ch) => ch.ids);
}
export function flattenWeights(c: WeightedChunks): number[] {
  return c.chunks.flatMap((ch) => ch.weights);
}

/**
 * A1111 "Original" emphasis on the encoder output z [77·k, dim] (one prompt): per 77-token chunk, z ⊙ w, then
 * rescaled so the chunk's mean over all elements is what it was before. Means accumulate in double.
 */
export function applyWeightsA1111(z: Float32Array, weights: readonly number[], tokens: number, dim: number): Float32Array {
  checkShapes(z, weights, tokens, dim);
  const out = new Float32Array(z.length);
  for (let c0 = 0; c0 < tokens; c0 += CONTEXT_LENGTH) {
    const c1 = Math.min(tokens, c0 + CONTEXT_LENGTH);
    let before = 0;
    let after = 0;
    for (let t = c0; t < c1; t++) {
      const w = Math.fround(weights[t]);
      for (let d = 0; d < dim; d++) {
        const v = z[t * dim + d];
        const s = Math.fround(v * w);
        out[t * dim + d] = s;
        before += v;
        after += s;
      }
    }
    const scale = Math.fround(before / after);
    if (!Number.isFinite(scale)) continue;
    for (let i = c0 * dim; i < c1 * dim; i++) out[i] = Math.fround(out[i] * scale);
  }
  return out;
}

/**
 * ComfyUI weighting: for every token whose weight ≠ 1, z ← z_empty + w·(z − z_empty), where z_empty is the
 * encoder output of the empty prompt (77 tokens, reused for every chunk, or one per chunk).
 */
export function applyWeightsComfy(z: Float32Array, zEmpty: Float32Array, weights: readonly number[], tokens: number, dim: number): Float32Array {
  checkShapes(z, weights, tokens, dim);
  if (zEmpty.length !== CONTEXT_LENGTH * dim && zEmpty.length !== tokens * dim) {
    throw new RangeError(`empty-prompt encoding has ${zEmpty.length} values; expected ${CONTEXT_LENGTH}·${dim} or ${tokens}·${dim}`);
  }
  const perChunk = zEmpty.length === CONTEXT_LENGTH * dim;
  const out = Float32Array.from(z);
  for (let t = 0; t < tokens; t++) {
    const w = weights[t];
    if (w === 1) continue;
    const e0 = (perChunk ? t % CONTEXT_LENGTH : t) * dim;
    const wf = Math.fround(w);
    for (let d = 0; d < dim; d++) {
      const e = zEmpty[e0 + d];
      out[t * dim + d] = Math.fround(Math.fround(Math.fround(z[t * dim + d] - e) * wf) + e);
    }
  }
  return out;
}

function checkShapes(z: Float32Array, weights: readonly number[], tokens: number, dim: number): void {
  if (z.length !== tokens * dim) throw new RangeError(`z has ${z.length} values, expected ${tokens}×${dim}`);
  if (weights.length !== tokens) throw new RangeError(`${weights.length} weights for ${tokens} tokens`);
}
