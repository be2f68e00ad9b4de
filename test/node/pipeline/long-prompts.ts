import type { WeightingMode } from '../../../src/shared/domain/generation';

/** `unit` repeated and cut to exactly `length` UTF-16 code units (what the API's 20,000-character limit counts). */
function fill(unit: string, length = 20_000): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

export interface LongPrompt {
  name: string;
  prompt: string;
  weighting?: WeightingMode;
}

/** Prompts of the API's maximum length (and the 34,000-character one), in the shapes people paste. */
export const LONG_PROMPTS: LongPrompt[] = [
  // The report: `python3 -c "print('a '*17000,end='')"` (34,000 characters, 17,000 tokens, 227 chunks).
  { name: 'repeated-a-34000', prompt: 'a '.repeat(17_000) },
  // Three bytes per character in UTF-8: 20,000 characters are 53,000 bytes of command line.
  { name: 'repeated-cjk-words', prompt: fill('狐狸在雪中奔跑 ') },
  { name: 'one-huge-word', prompt: 'a'.repeat(20_000) },
  { name: 'heavy-weighting-a1111', prompt: fill('((fox:1.2), [cat], (dog:0.8)), (((snow))) ') },
  // 9,998 nested groups: ComfyUI's parser recursed once per level.
  { name: 'nested-weighting-comfy', prompt: `${'('.repeat(9_998)}fox!${')'.repeat(9_998)}`, weighting: 'comfy' },
  // 2,000 chunks: a 154,000-token context.
  { name: 'break-every-word', prompt: fill('fox BREAK ') },
];
