import { describe, expect, it } from 'vitest';
import { promptNotes, tokenizePrompt } from '../../../src/renderer/components/prompt-syntax';

const kinds = (p: string) => tokenizePrompt(p).map((s) => [s.kind, s.text]);

describe('prompt syntax highlighting', () => {
  it('keeps the prompt text intact, span by span', () => {
    const p = 'a (glowing:1.2) fox, [soft] snow \\(literal\\) BREAK night <lora:style:0.8> ((very))';
    expect(tokenizePrompt(p).map((s) => s.text).join('')).toBe(p);
  });

  it('marks brackets, explicit weights, escapes, BREAK and lora tags', () => {
    expect(kinds('(fox:1.3)')).toEqual([
      ['paren', '('],
      ['text', 'fox'],
      ['weight', ':1.3'],
      ['paren', ')'],
    ]);
    expect(kinds('[snow]')).toEqual([
      ['bracket', '['],
      ['text', 'snow'],
      ['bracket', ']'],
    ]);
    expect(kinds('\\(x')).toEqual([
      ['escape', '\\('],
      ['text', 'x'],
    ]);
    expect(kinds('a BREAK b').map(([k]) => k)).toEqual(['text', 'break', 'text']);
    expect(kinds('<lora:ink:0.7>')).toEqual([['lora', '<lora:ink:0.7>']]);
  });

  it('tracks emphasis depth: (( )) up twice, [ ] down', () => {
    const spans = tokenizePrompt('((a)) [b] c');
    expect(spans.find((s) => s.text === 'a')?.depth).toBe(2);
    expect(spans.find((s) => s.text === 'b')?.depth).toBe(-1);
    expect(spans.find((s) => s.text.includes('c'))?.depth).toBe(0);
  });

  it('a colon outside a weight is text, not a weight', () => {
    expect(kinds('(ratio: wide screen)').map(([k]) => k)).toEqual(['paren', 'text', 'paren']);
  });

  it('flags unbalanced and mismatched brackets, and says why', () => {
    const open = tokenizePrompt('(fox');
    expect(open[0]).toMatchObject({ kind: 'error', text: '(' });
    const stray = tokenizePrompt('fox)');
    expect(stray.at(-1)).toMatchObject({ kind: 'error', text: ')' });
    const crossed = tokenizePrompt('(fox]');
    expect(crossed.filter((s) => s.kind === 'error').map((s) => s.text)).toEqual(['(', ']']);
    expect(promptNotes(open)[0]).toMatch(/Unbalanced/);
    // In the prompt a <lora:…> tag is applied (Generate moves it into the stack), so it is no problem; in the
    // negative prompt it would do nothing, and says so.
    expect(promptNotes(tokenizePrompt('<lora:x:1>'))).toEqual([]);
    expect(promptNotes(tokenizePrompt('<lora:x:1>'), 'ignore')[0]).toMatch(/do nothing in a negative prompt/);
    expect(promptNotes(tokenizePrompt('(a:1.1), [b]'))).toEqual([]);
  });
});
