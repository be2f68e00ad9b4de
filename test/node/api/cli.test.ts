/** The CLI entry as a user runs it (`npm run cli -- …` is `tsx src/main/cli.ts …`): help, version, exit codes. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { version } from '../../../package.json';

const repo = resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', ...args], { cwd: repo });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('npm run cli', () => {
  it('--help prints usage and every registered command, exit 0', async () => {
    const { COMMANDS } = await import('../../../src/main/cli/registry');
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: npm run cli -- <command> [options]');
    expect(r.stdout).toContain(version);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.name);
  });

  it('--version prints the package version, exit 0', async () => {
    const r = await cli('--version');
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim()).toBe(version);
  });

  it('an unknown command is a usage error (exit 2) that shows the help', async () => {
    const r = await cli('no-such-command');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown command "no-such-command"');
  });
});
