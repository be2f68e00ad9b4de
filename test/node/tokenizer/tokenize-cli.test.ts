import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tokenizeCommand } from '../../../src/main/cli/commands/tokenize';

const golden = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/tokenizer/prompts.json', import.meta.url)), 'utf8'),
) as { prompts: Array<{ text: string; input_ids: number[] }> };

async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await tokenizeCommand.run(args, { stdout: (t) => void (out += t + '\n'), stderr: () => undefined, isTTY: false });
  return { code, out };
}

describe('tokenize CLI', () => {
  it('--json input_ids equal the fixtures for every golden prompt', async () => {
    for (const p of golden.prompts) {
      const { code, out } = await runCli(['--json', '--', p.text]);
      expect(code).toBe(0);
      const j = JSON.parse(out) as { input_ids: number[]; chunks: Array<{ ids: number[]; weights: number[] }> };
      expect(j.input_ids).toEqual(p.input_ids);
      expect(j.chunks.length).toBeGreaterThanOrEqual(1);
      for (const c of j.chunks) expect([c.ids.length, c.weights.length]).toEqual([77, 77]);
    }
  });

  it('prints weighted chunks in text mode and rejects a bad mode', async () => {
    const { out } = await runCli(['a', '(red:1.5)', 'cat', 'BREAK', 'dog']);
    expect(out).toMatch(/^2 chunks of 77 tokens/);
    expect(out).toMatch(/red\(736\)×1\.5/);
    await expect(runCli(['--mode', 'xl', 'cat'])).rejects.toThrow(/--mode must be/);
  });
});
