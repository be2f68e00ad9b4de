/**
 * Long prompts through the CLI as a user runs it (a real child process). A1111 takes prompts of any length (75
 * tokens per chunk, 77·k context); so does the studio. The CLI once died with SIGSEGV on these: onnxruntime's
 * start-up reads the process's command line recursively and overflows the stack past ~29,000 bytes of argv, and
 * the CLI ran onnxruntime in its own process, whose command line holds the prompt.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GenerationParams } from '../../../src/shared/domain/generation';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase } from '../../../src/main/store/database';
import { cliProcess } from '../cli-process';
import { LONG_PROMPTS } from './long-prompts';

const root = mkdtempSync(join(tmpdir(), 'long-prompt-cli-'));
const data = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('npm run cli -- generate with very long prompts (child process)', () => {
  it.each(LONG_PROMPTS)('$name: exits 0 and records the whole prompt', async ({ name, prompt, weighting }) => {
    const out = join(root, name);
    const args = ['generate', '--prompt', prompt, '--frames', '2', '--width', '64', '--height', '64', '--steps', '1', '--seed', '3', '--out', out, '--data-dir', data, '--json'];
    if (weighting) args.push('--weighting', weighting);
    const r = await cliProcess(...args);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { historyId: number; frames: number };
    expect(j.frames).toBe(2);
    expect((JSON.parse(readFileSync(join(out, 'params.json'), 'utf8')) as GenerationParams).prompt).toBe(prompt);
    const db = openDatabase(data, { readonly: true });
    try {
      const rec = await new HistoryService(db).getGeneration(j.historyId);
      expect(rec.status).toBe('done');
      expect(rec.params.prompt).toBe(prompt);
    } finally {
      db.close();
    }
  });
});
