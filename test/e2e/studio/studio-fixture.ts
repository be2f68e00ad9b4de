/**
 * The studio specs' own web-mode server (a worker fixture under its own name, so their imports, clips and
 * timelines never leak into the shell specs), plus helpers: API calls from the test process, screenshots saved as
 * artefacts under test-results/screenshots/, and file hashes.
 */
import { test as base, type Page, type TestInfo } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiMethod, ApiReturn } from '../../../src/shared/api';
import { collectConsoleErrors, withStudio, type Studio } from '../fixtures';
import { callOverSocket } from '../socket';

export const SCREENSHOT_DIR = 'test-results/screenshots';

export const test = base.extend<{ consoleErrors: string[] }, { app: Studio }>({
  app: [async ({}, use) => withStudio(use), { scope: 'worker', timeout: 60_000 }],
  consoleErrors: collectConsoleErrors,
});

export { expect } from '@playwright/test';

/** A StudioApi call from the test process (the same backend the page uses), unwrapped or thrown. */
export async function call<M extends ApiMethod>(app: Studio, method: M, ...args: unknown[]): Promise<ApiReturn<M>> {
  const out = await callOverSocket(`ws://127.0.0.1:${app.port}/api?token=${app.token}`, { Origin: app.origin }, method, args);
  if (!out.result) throw new Error(`${method} refused with HTTP ${out.refusedWith}`);
  if (!out.result.ok) throw new Error(`${method} failed: ${out.result.error.code} ${out.result.error.message}`);
  return out.result.value as ApiReturn<M>;
}

/** Saves a screenshot of the window both as a test attachment and under test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // The place from its top (an action may have scrolled it), as a creator first sees it.
  await page.locator('#main').evaluate((m) => m.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: false });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/** SHA-256 of every frame in a frames folder, in name order. */
export function frameHashes(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => createHash('sha256').update(readFileSync(join(dir, f))).digest('hex'));
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Records every text the job status lines show, so a fast job's progress cannot slip between two polls. */
export async function recordStatusTexts(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __statusTexts: string[] }).__statusTexts = seen;
    new MutationObserver(() => {
      for (const el of Array.from(document.querySelectorAll('[data-testid="job-status"]'))) {
        const t = el.textContent ?? '';
        if (seen[seen.length - 1] !== t) seen.push(t);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}
