import { describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import {
  applyWeightsA1111,
  applyWeightsComfy,
  flattenIds,
  padChunks,
  parseComfyWeights,
  parsePromptAttention,
  tokenizeWeighted,
} from '../../../src/main/engine/tokenizer/prompt-weighting';

const tok = ClipTokenizer.load();

describe('parsePromptAttention: A1111 doctests (modules/prompt_parser.py)', () => {
  it.each([
    ['normal text', [['normal text', 1.0]]],
    ['an (important) word', [['an ', 1.0], ['important', 1.1], [' word', 1.0]]],
    ['(unbalanced', [['unbalanced', 1.1]]],
    ['\\(literal\\]', [['(literal]', 1.0]]],
    ['(unnecessary)(parens)', [['unnecessaryparens', 1.1]]],
    [
      'a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).',
      [['a ', 1.0], ['house', 1.5730000000000004], [' ', 1.1], ['on', 1.0], [' a ', 1.1], ['hill', 0.55], [', sun, ', 1.1], ['sky', 1.4641000000000006], ['.', 1.1]],
    ],
  ])('%s', (text, expected) => {
    expect(parsePromptAttention(text)).toEqual(expected);
  });

  it('BREAK becomes a marker, [x] divides by 1.1, escapes keep brackets and backslashes', () => {
    expect(parsePromptAttention('a cat BREAK [a dog] \\\\ \\[x\\)')).toEqual([
      ['a cat', 1.0],
      ['BREAK', -1],
      ['', 1.0],
      ['a dog', 1 / 1.1],
      [' \\ [x)', 1.0],
    ]);
    expect(parsePromptAttention('')).toEqual([['', 1.0]]);
    expect(parsePromptAttention('(a:1.5) (b: 0.5 )')).toEqual([['a', 1.5], [' ', 1.0], ['b', 0.5]]);
    expect(parsePromptAttention('BREAKFAST')).toEqual([['BREAKFAST', 1.0]]);
  });
});

describe('parseComfyWeights: ComfyUI token_weights', () => {
  it('multiplies by 1.1 per paren, sets explicit weights, keeps [x] literal and honours \\( escapes', () => {
    expect(parseComfyWeights('a (b) ((c)) (d:1.5) [e] \\(f\\)')).toEqual([
      ['a ', 1.0],
      ['b', 1.1],
      [' ', 1.0],
      ['c', 1.1 * 1.1],
      [' ', 1.0],
      ['d', 1.5],
      [' [e] (f)', 1.0],
    ]);
    // Nested explicit weight replaces, not multiplies.
    expect(parseComfyWeights('(x (y:0.5))')).toEqual([['x ', 1.1], ['y', 0.5]]);
  });

  it('takes 20,000 characters of nested parentheses without exhausting the stack (ComfyUI recurses per level)', () => {
    const depth = 10_000;
    const spans = parseComfyWeights(`${'('.repeat(depth)}fox${')'.repeat(depth)}`);
    expect(spans).toHaveLength(1);
    expect(spans[0][0]).toBe('fox');
    expect(spans[0][1]).toBe(Infinity); // 1.1^10000 overflows, as it does in Python
    const mixed = parseComfyWeights(`${'(a '.repeat(depth / 2)}${'(b:0.5)'}${')'.repeat(depth / 2)}`);
    expect(mixed.at(-1)).toEqual(['b', 0.5]);
    expect(mixed[0]).toEqual(['a ', 1.1]);
    expect(mixed[2]).toEqual(['a ', 1.1 * 1.1 * 1.1]);
    expect(tokenizeWeighted(tok, `${'('.repeat(depth)}fox${')'.repeat(depth)}`, { mode: 'comfy' }).chunks).toHaveLength(1);
  });
});

describe('tokenizeWeighted', () => {
  it('one chunk of 77 ids and weights, 1.0 on BOS/EOS/padding, SD1.x padding with EOS', () => {
    const { chunks } = tokenizeWeighted(tok, 'a (red:1.5) cat');
    expect(chunks).toHaveLength(1);
    const [c] = chunks;
    expect(c.ids).toHaveLength(77);
    expect(c.weights).toHaveLength(77);
    expect(c.ids).toEqual(tok.inputIds('a red cat'));
    expect(c.weights.slice(0, 5)).toEqual([1, 1, 1.5, 1, 1]);
    expect(c.weights.slice(4).every((w) => w === 1)).toBe(true);
  });

  it('BREAK ends a chunk; long prompts make 77·k; comma backtracking moves the tail', () => {
    expect(tokenizeWeighted(tok, 'a cat BREAK a dog').chunks.map((c) => c.ids.slice(0, 4))).toEqual([
      [tok.bos, ...tok.encode('a cat'), tok.eos],
      [tok.bos, ...tok.encode('a dog'), tok.eos],
    ]);
    const long = Array.from({ length: 100 }, () => 'a').join(' ');
    const r = tokenizeWeighted(tok, long);
    expect(r.chunks).toHaveLength(2);
    expect(flattenIds(r)).toHaveLength(154);
    expect(r.chunks[1].ids.slice(1, 26).every((id) => id === tok.encode('a')[0])).toBe(true);
    expect(r.chunks[1].ids[26]).toBe(tok.eos);
    // 70 tokens, a comma, then 10 more: the 10 after the comma move to chunk 2 in A1111 mode.
    const withComma = `${Array.from({ length: 70 }, () => 'a').join(' ')}, ${Array.from({ length: 10 }, () => 'b').join(' ')}`;
    const a = tokenizeWeighted(tok, withComma);
    expect(a.chunks[0].ids[72]).toBe(tok.eos);
    expect(a.chunks[1].ids.slice(1, 11)).toEqual(tok.encode(Array.from({ length: 10 }, () => 'b').join(' ')));
    expect(tokenizeWeighted(tok, withComma, { mode: 'a1111', commaPaddingBacktrack: 0 }).chunks[0].ids[75]).toBe(tok.encode('b')[0]);
  });

  it('comfy mode: BREAK and [x] are literal, (x:w) weights the span', () => {
    const c = tokenizeWeighted(tok, 'a cat BREAK [dog] (sun:0.8)', { mode: 'comfy' });
    expect(c.chunks).toHaveLength(1);
    expect(c.chunks[0].ids).toEqual(tok.inputIds('a cat BREAK [dog] sun'));
    const sunAt = c.chunks[0].ids.indexOf(tok.encode('sun')[0]);
    expect(c.chunks[0].weights[sunAt]).toBe(0.8);
  });

  it('padChunks gives positive and negative the same chunk count with empty chunks', () => {
    const pos = tokenizeWeighted(tok, 'a BREAK b BREAK c');
    const neg = tokenizeWeighted(tok, 'blurry');
    const [p, n] = padChunks(pos, neg);
    expect(p.chunks).toHaveLength(3);
    expect(n.chunks).toHaveLength(3);
    expect(n.chunks[2].ids).toEqual(tok.inputIds(''));
    expect(n.chunks[2].weights.every((w) => w === 1)).toBe(true);
  });
});

describe('weighting maths on encoder outputs', () => {
  const dim = 4;
  const tokens = 77;
  const z = Float32Array.from({ length: tokens * dim }, (_, i) => Math.sin(i) + 0.3);
  const weights = Array.from({ length: tokens }, (_, t) => (t === 3 ? 1.5 : t === 5 ? 0.5 : 1));

  it('A1111: scales token rows, then restores the chunk mean', () => {
    const out = applyWeightsA1111(z, weights, tokens, dim);
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(z), 6);
    const k = out[0] / z[0];
    expect(out[3 * dim + 1] / z[3 * dim + 1]).toBeCloseTo(1.5 * k, 5);
    expect(out[5 * dim + 2] / z[5 * dim + 2]).toBeCloseTo(0.5 * k, 5);
    expect(k).not.toBeCloseTo(1, 3);
  });

  it('A1111: all-ones weights leave z unchanged; each chunk is normalised on its own', () => {
    expect(Array.from(applyWeightsA1111(z, new Array(tokens).fill(1), tokens, dim))).toEqual(Array.from(z));
    const z2 = new Float32Array(2 * tokens * dim);
    z2.set(z);
    z2.set(z, tokens * dim);
    const w2 = [...weights, ...new Array(tokens).fill(1)];
    const out2 = applyWeightsA1111(z2, w2, 2 * tokens, dim);
    expect(Array.from(out2.subarray(tokens * dim))).toEqual(Array.from(z));
  });

  it('Comfy: lerp from the empty encoding where w ≠ 1', () => {
    const empty = Float32Array.from({ length: tokens * dim }, (_, i) => Math.cos(i));
    const out = applyWeightsComfy(z, empty, weights, tokens, dim);
    expect(out[0]).toBe(z[0]);
    const i = 3 * dim + 2;
    expect(out[i]).toBeCloseTo(empty[i] + 1.5 * (z[i] - empty[i]), 6);
  });
});
