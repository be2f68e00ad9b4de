/**
 * The studio specs' own web-mode server (a worker fixture under its own name, so their imports, clips and
 * timelines never leak into the shell specs), plus helpers: API calls from the test process, screenshots saved as
 * artefacts under test-results/screenshots/, and file hashes.
 */
import { expect, test as base, type Locator, type Page, type TestInfo } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiMethod, ApiReturn } from '../../../src/shared/api';
import { collectConsoleErrors, withStudio, type Studio } from '../fixtures';
import { callOverSocket } from '../socket';

export const SCREENSHOT_DIR = 'test-results/screenshots';

/**
 * `backend` names the backend a spec file builds on; a spec that needs its own fresh one sets it with
 * `test.use({ backend: '<name>' })`, and Playwright then runs it in its own worker with its own `app`.
 */
export const test = base.extend<{ consoleErrors: string[] }, { app: Studio; backend: string }>({
  backend: ['studio', { scope: 'worker', option: true }],
  // Depends on `backend` only so that a different name means a different worker (and so a fresh backend).
  app: [async ({ backend }, use) => (void backend, withStudio(use)), { scope: 'worker', timeout: 60_000 }],
  consoleErrors: collectConsoleErrors,
});

export { expect };

/** Timeline → Export… → MP4 → Export, waiting for the file; the dialog, its link and the written path. */
export async function exportMp4ViaDialog(page: Page): Promise<{ dialog: Locator; link: Locator; out: string }> {
  await page.getByTestId('export-open').click();
  const dialog = page.getByTestId('export-dialog');
  await dialog.getByTestId('export-format').selectOption('mp4');
  await dialog.getByTestId('export-start').click();
  const link = dialog.getByTestId('export-path');
  await expect(link).toBeVisible({ timeout: 60_000 });
  return { dialog, link, out: (await link.getAttribute('data-path')) ?? '' };
}

/** ffprobe's view of a video's first stream, frames counted by decoding. */
export function probeVideo(file: string): { codec_name: string; width: number; height: number; nb_read_frames: string } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file], {
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams[0];
}

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
