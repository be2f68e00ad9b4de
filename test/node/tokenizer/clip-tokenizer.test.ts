import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClipTokenizer } from '../../../src/main/engine/tokenizer/clip-tokenizer';
import { cleanPrompt, fixText, htmlUnescape } from '../../../src/main/engine/tokenizer/text-cleanup';

interface GoldenPrompt {
  text: string;
  ftfy_fixed: string;
  clean_lower: string;
  bpe_tokens: string[];
  ids_unpadded: number[];
  input_ids: number[];
  truncated: boolean;
  decoded: string;
}
const golden = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/tokenizer/prompts.json', import.meta.url)), 'utf8'),
) as { prompts: GoldenPrompt[]; special_ids: Record<string, number> };

const tok = ClipTokenizer.load();
const cases = golden.prompts.map((p, i) => [i, JSON.stringify(p.text).slice(0, 60), p] as const);

describe('ClipTokenizer reproduces openai/CLIP SimpleTokenizer (+ftfy 6.3.1) on every golden prompt', () => {
  it('has the reference vocabulary and special ids', () => {
    expect(tok.vocabSize).toBe(golden.special_ids.vocab_size);
    expect(tok.bos).toBe(golden.special_ids['<|startoftext|>']);
    expect(tok.eos).toBe(golden.special_ids['<|endoftext|>']);
  });

  it.each(cases)('#%i %s', (_i, _label, p) => {
    expect(fixText(p.text)).toBe(p.ftfy_fixed);
    expect(cleanPrompt(p.text)).toBe(p.clean_lower);
    expect(tok.bpeTokens(p.text)).toEqual(p.bpe_tokens);
    const body = tok.encode(p.text);
    expect([tok.bos, ...body, tok.eos]).toEqual(p.ids_unpadded);
    expect(tok.inputIds(p.text)).toEqual(p.input_ids);
    expect(body.length > 75).toBe(p.truncated);
    expect(tok.decode(p.ids_unpadded.slice(1, -1))).toBe(p.decoded);
  });
});

describe('clean-up pieces', () => {
  it('html.unescape handles legacy names, numeric remaps and unknown names like Python', () => {
    expect(htmlUnescape('&amp &ampx; &eacute; &#x41; &#150; &#0; &bogus; &notin')).toBe('& &x; é A – \ufffd &bogus; ¬in');
  });
  it('repairs embedded mojibake next to legitimate accents', () => {
    expect(fixText('naïve CafÃ©')).toBe('naïve Café');
    expect(fixText('â€œquotedâ€\u009d')).toBe('"quoted"');
  });
  it('leaves HTML alone on a line containing <', () => {
    expect(fixText('<b> &amp;')).toBe('<b> &amp;');
  });
});
