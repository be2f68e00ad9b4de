import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../../../src/shared/domain/generation';
import type { LibraryItem } from '../../../src/shared/domain/library';
import { applyPromptLoras, extractPromptLoras } from '../../../src/shared/domain/prompt-loras';
import { adjustPromptWeight } from '../../../src/shared/domain/prompt-weight-edit';

const lora = (id: number, name: string, path: string) => ({ id, name, path, sha256: `${id}`.repeat(64).slice(0, 64), kind: 'lora' }) as LibraryItem;

describe('<lora:name:weight> in the prompt', () => {
  it('takes the tags out of the text the encoder reads, with their weights', () => {
    expect(extractPromptLoras('a fox, <lora:ink-wash:0.7>, snow <lyco:grain>')).toEqual({
      prompt: 'a fox, snow',
      tags: [
        { name: 'ink-wash', weight: 0.7, text: '<lora:ink-wash:0.7>' },
        { name: 'grain', weight: 1, text: '<lyco:grain>' },
      ],
    });
    expect(extractPromptLoras('plain prompt').tags).toEqual([]);
  });

  it('applies each tag as a stack entry (by name or file name) and refuses a name the library lacks', () => {
    const library = [lora(1, 'Ink Wash', '/l/ink-wash.safetensors'), lora(2, 'grain', '/l/g.safetensors')];
    const params = { ...DEFAULT_PARAMS, prompt: 'fox <lora:ink-wash:0.6> <lora:GRAIN:-0.5>', loras: [{ path: '/l/g.safetensors', weight: 1, enabled: false }] };
    const out = applyPromptLoras(params, library);
    if (!out.ok) throw new Error('refused');
    expect(out.params.prompt).toBe('fox');
    expect(out.params.loras).toEqual([
      { path: '/l/g.safetensors', weight: -0.5, enabled: true },
      { path: '/l/ink-wash.safetensors', weight: 0.6, enabled: true, name: 'Ink Wash', sha256: library[0].sha256 },
    ]);
    const refused = applyPromptLoras({ ...params, prompt: 'fox <lora:nowhere:1>' }, library);
    expect(refused).toEqual({ ok: false, missing: [{ name: 'nowhere', weight: 1, text: '<lora:nowhere:1>' }] });
  });
});

describe('Ctrl+↑/↓ weight editing', () => {
  it('wraps the word at the caret, steps the weight, and drops the brackets at 1', () => {
    const up = adjustPromptWeight('a red fox', 4, 4, 0.1);
    expect(up).toEqual({ text: 'a (red:1.1) fox', start: 3, end: 6 });
    const again = adjustPromptWeight(up?.text ?? '', up?.start ?? 0, up?.end ?? 0, 0.1);
    expect(again).toEqual({ text: 'a (red:1.2) fox', start: 3, end: 6 });
    const down = adjustPromptWeight('a (red:1.1) fox', 3, 6, -0.1);
    expect(down).toEqual({ text: 'a red fox', start: 2, end: 5 });
    expect(adjustPromptWeight('a red fox', 2, 9, -0.1)).toEqual({ text: 'a (red fox:0.9)', start: 3, end: 10 });
    expect(adjustPromptWeight('   ', 1, 1, 0.1)).toBeNull();
  });
});

describe('token counter', () => {
  it('counts CLIP tokens per 75-token chunk, as the encoder splits them', async () => {
    const { createStudioServices, invokeApi } = await import('../../../src/main/services/studio-services');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const services = createStudioServices({ dataDir: mkdtempSync(join(tmpdir(), 'tokens-')), mode: 'web' });
    try {
      // "a cat" is two CLIP tokens; BREAK starts a new chunk in A1111 mode.
      expect(await invokeApi(services, 'countTokens', ['a cat'])).toEqual({ ok: true, value: { chunks: [2], total: 2 } });
      expect(await invokeApi(services, 'countTokens', ['a cat BREAK a dog'])).toEqual({ ok: true, value: { chunks: [2, 2], total: 4 } });
      expect(await invokeApi(services, 'countTokens', [''])).toEqual({ ok: true, value: { chunks: [0], total: 0 } });
      // 80 words of one token each spill into a second chunk.
      const long = await invokeApi(services, 'countTokens', [Array(80).fill('cat').join(' ')]);
      expect(long).toMatchObject({ ok: true, value: { total: 80 } });
      expect((long as { value: { chunks: number[] } }).value.chunks).toHaveLength(2);
    } finally {
      await services.close();
    }
  });
});
