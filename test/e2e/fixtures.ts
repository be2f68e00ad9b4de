/**
 * The `studio` fixture: web mode from the built bundle (out/main/web.js, so the bundled engine worker is what
 * answers), on a random port, with a fresh data folder. Started once per worker; the URL and token are read from
 * the line the server prints ("Open <url>"), exactly as a person would.
 */
import { test as base, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Studio {
  /** The printed URL, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  dataDir: string;
  /** Everything the server wrote to stdout/stderr so far. */
  output(): string;
}

const WEB_ENTRY = 'out/main/web.js';

export async function startStudio(): Promise<{ studio: Studio; child: ChildProcess }> {
  if (!existsSync(WEB_ENTRY)) throw new Error(`${WEB_ENTRY} is missing: run npm run build first (npm run test:e2e does).`);
  const dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-'));
  const child = spawn(process.execPath, [WEB_ENTRY, '--port', '0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web mode did not print its URL within 30 s:\n${log}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /^Open (http:\/\/\S+)$/m.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web mode exited with code ${code}:\n${log}`));
    });
  });
  const parsed = new URL(url);
  return {
    child,
    studio: { url, origin: parsed.origin, port: Number(parsed.port), token: parsed.searchParams.get('token') ?? '', dataDir, output: () => log },
  };
}

/** Runs a fresh web-mode studio for the duration of `use`, then stops it and removes its data folder. */
export async function withStudio(use: (studio: Studio) => Promise<void>): Promise<void> {
  const { studio, child } = await startStudio();
  await use(studio);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(studio.dataDir, { recursive: true, force: true });
}

/** Console errors and uncaught page errors seen during the test; the test asserts it stays empty. */
export async function collectConsoleErrors({ page }: { page: Page }, use: (errors: string[]) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await use(errors);
}

export const test = base.extend<{ consoleErrors: string[] }, { studio: Studio }>({
  studio: [async ({}, use) => withStudio(use), { scope: 'worker', timeout: 60_000 }],
  consoleErrors: collectConsoleErrors,
});

export { expect } from '@playwright/test';
