import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/main/cli';
import { discoverCases, runVerify, verifyPassed } from '../../../src/main/verify/run';

const REF = join(__dirname, '../../fixtures/reference');
const root = mkdtempSync(join(tmpdir(), 'verify-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('verify discovery and dispatch', () => {
  it('passes the clip_text and vae reference cases in both layouts', async () => {
    for (const c of ['clip_text', 'vae']) {
      const lines: string[] = [];
      const r = await runVerify(join(REF, c), { log: (l) => lines.push(l) });
      expect(r.failures).toEqual([]);
      expect(verifyPassed(r)).toBe(true);
      const whats = r.comparisons.map((x) => x.what);
      expect(whats.some((w) => w.startsWith('diffusers '))).toBe(true);
      expect(whats.some((w) => w.startsWith('ldm '))).toBe(true);
      expect(lines.every((l) => /^PASS /.test(l))).toBe(true);
      for (const x of r.comparisons) expect(x.maxAbs).toBeLessThan(1e-4);
    }
  });

  it('dispatches on files.json kind, not folder names; finds nested cases; fails unknown kinds loudly', async () => {
    const tree = join(root, 'tree');
    // a clip_text case under a misleading name, nested one level down
    cpSync(join(REF, 'clip_text'), join(tree, 'group', 'vae_lookalike'), { recursive: true });
    // a folder with sub-cases of its own (like scheduler_lcm) whose kind we give no handler
    mkdirSync(join(tree, 'mystery', 'sub'), { recursive: true });
    writeFileSync(join(tree, 'mystery', 'files.json'), JSON.stringify({ kind: 'teleporter' }));
    writeFileSync(join(tree, 'mystery', 'sub', 'files.json'), JSON.stringify({ kind: 'teleporter' }));
    writeFileSync(join(tree, 'broken.json'), '{}'); // not a case
    const cases = discoverCases(tree);
    expect(cases.map((c) => [c.name, c.kind])).toEqual([
      ['group/vae_lookalike', 'clip_text'],
      ['mystery', 'teleporter'],
      ['mystery/sub', 'teleporter'],
    ]);
    const lines: string[] = [];
    const r = await runVerify(tree, { log: (l) => lines.push(l) });
    expect(r.comparisons.filter((c) => c.case === 'group/vae_lookalike' && c.pass).length).toBe(6);
    expect(r.failures).toEqual(['FAIL mystery kind=teleporter not implemented', 'FAIL mystery/sub kind=teleporter not implemented']);
    expect(verifyPassed(r)).toBe(false);
    expect(lines).toContain('FAIL mystery kind=teleporter not implemented');
  });

  it('a case that errors or compares nothing fails; an empty folder fails', async () => {
    const tree = join(root, 'odd');
    mkdirSync(join(tree, 'a'), { recursive: true });
    mkdirSync(join(tree, 'b'), { recursive: true });
    writeFileSync(join(tree, 'a', 'files.json'), JSON.stringify({ kind: 'clip_text' })); // no weights at all
    writeFileSync(join(tree, 'b', 'files.json'), JSON.stringify({ kind: 'quiet' }));
    const r = await runVerify(tree, { handlers: [{ kind: 'quiet', run: async () => undefined }, { kind: 'clip_text', run: async () => { throw new Error('no weights'); } }] });
    expect(r.failures).toEqual(['FAIL a kind=clip_text error: no weights', 'FAIL b kind=quiet compared nothing']);
    const real = await runVerify(join(tree, 'a'));
    expect(real.failures[0]).toMatch(/^FAIL a kind=clip_text error: .*input_ids\.npy|weights/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect((await runVerify(empty)).failures[0]).toMatch(/no reference cases/);
  });

  it('the CLI command exits 0 when everything passes and 1 otherwise', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    try {
      expect(await main(['verify', join(REF, 'clip_text')])).toBe(0);
      expect(await main(['verify', join(root, 'tree', 'mystery')])).toBe(1);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/PASS clip_text diffusers last_hidden_state max_abs=/);
    expect(out.join('')).toMatch(/FAIL mystery kind=teleporter not implemented/);
  });
});
