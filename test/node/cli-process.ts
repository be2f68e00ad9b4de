/** The CLI as a user runs it (`npm run cli -- …` is `tsx src/main/cli.ts …`): a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');

export interface CliProcessResult {
  /** null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `npm run cli -- <args>`; stdout and stderr are piped. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects a started CLI process's output and how it ended. */
export function finished(child: ChildProcess): Promise<CliProcessResult> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Runs `npm run cli -- <args>` to the end. */
export function cliProcess(...args: string[]): Promise<CliProcessResult> {
  return finished(spawnCli(args));
}
