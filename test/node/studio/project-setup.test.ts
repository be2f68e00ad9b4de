import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };

/** The lowest version a range such as ">= 22.12.0" or "^20.19.0 || >=22.12.0" admits, as [major, minor]. */
function lowest(range: string): [number, number] {
  const versions = [...range.matchAll(/(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
  return versions.sort((a, b) => a[0] - b[0] || a[1] - b[1])[0];
}

describe('project setup', () => {
  it('npm start without the Electron binary says so in one sentence and points to npm run web', () => {
    expect(pkg.scripts.prestart.startsWith('node scripts/check-electron.mjs &&')).toBe(true);
    expect(pkg.scripts.predev.startsWith('node scripts/check-electron.mjs &&')).toBe(true);
    const empty = mkdtempSync(join(tmpdir(), 'no-electron-'));
    const r = spawnSync(process.execPath, ['scripts/check-electron.mjs'], { encoding: 'utf8', env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: empty } });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Electron binary is not installed.*npm run web/);
  });

  it("the README's Node requirement is what the installed Electron asks for", () => {
    const electron = JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')) as { engines?: { node?: string } };
    const readme = readFileSync('README.md', 'utf8');
    const stated = /Requirements: Node ≥ (\d+)\.(\d+)/.exec(readme);
    expect(stated).not.toBeNull();
    const need = lowest(electron.engines?.node ?? '>=0.0');
    expect([Number(stated?.[1]), Number(stated?.[2])]).toEqual(need);
  });
});
