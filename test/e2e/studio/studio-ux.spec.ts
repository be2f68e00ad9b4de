/**
 * Issue 19, the studio as a creator feels it, in Chromium against the real web-mode backend and the starter model:
 * the Generate viewer (live preview at the viewer's size from step 1, the finished clip with a scrubber, the
 * previous take one key away), the side panel whose Generate button and running job stay in view at 1280×720,
 * truthful state (settings apply at once, refused values say why, bars that end, errors in a creator's words),
 * prompt conveniences (<lora:…> applied, token counter, Ctrl+↑/↓), the engine options, the themes, and every
 * place photographed at 1280×720 and 1920×1080 into test-results/screenshots/ with no sideways scrolling.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { STARTER_LORA_TRIGGER, writeStarterLora } from './starter-lora';
import { call, expect, screenshot, test } from './studio-fixture';

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

const PLACES = ['Generate', 'Library', 'Timeline', 'History', 'Settings'] as const;
const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
] as const;

const files = mkdtempSync(join(tmpdir(), 'animatelcm-ux-files-'));
const loraPath = join(files, 'ux-style.safetensors');
writeStarterLora(loraPath, 2, 'ux-style');

async function goPlace(page: Page, place: string) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: place }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(place);
}

async function tiny(page: Page, frames = 8, steps = 2) {
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill(String(frames));
  await page.getByTestId('steps-number').fill(String(steps));
  await page.getByTestId('guidance-number').fill('1');
}

/** True when the whole element is inside the window. */
async function inView(page: Page, testId: string): Promise<boolean> {
  const box = await page.getByTestId(testId).first().boundingBox();
  const vp = page.viewportSize();
  return !!box && !!vp && box.y >= 0 && box.x >= 0 && box.y + box.height <= vp.height && box.x + box.width <= vp.width;
}

test('generate: the viewer shows the preview from the first step at its own size, then plays the clip with a scrubber; the button and running job stay in view at 1280×720', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-state', 'empty');
  expect(await inView(page, 'generate')).toBe(true);

  await page.getByTestId('prompt').fill('a red fox in the snow');
  await tiny(page, 16, 8);
  await page.getByTestId('size-preset').selectOption('256x256');
  await page.getByTestId('generate').click();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  // From the first sampling step the preview is drawn in the viewer, scaled to the viewer (far above 96 px).
  await expect(page.getByTestId('viewer-preview')).toBeVisible({ timeout: 60_000 });
  const canvas = await page.getByTestId('viewer-preview').boundingBox();
  expect(canvas?.height ?? 0).toBeGreaterThan(300);
  // While it runs, the Generate button and the running job are both on screen without scrolling.
  await expect(page.getByTestId('running-job')).toBeVisible();
  expect(await inView(page, 'generate')).toBe(true);
  expect(await inView(page, 'running-job')).toBe(true);
  expect(await inView(page, 'job')).toBe(true);
  await screenshot(page, testInfo, 'ux-generate-running-1280x720');
  await expect(viewer).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('running-job')).toHaveCount(0);

  // The finished clip plays in the viewer; the scrubber picks a frame (and pauses).
  const frame = page.getByTestId('viewer-frame');
  await expect(frame).toBeVisible();
  expect((await frame.boundingBox())?.height ?? 0).toBeGreaterThan(300);
  await page.getByTestId('viewer-scrubber').fill('5');
  await expect(frame).toHaveAttribute('alt', /^Frame 6 of 16/);
  await expect(page.getByTestId('viewer-play')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('viewer-timecode')).toHaveText('6/16');
  // Space plays again.
  await page.getByTestId('viewer-scrubber').blur();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('viewer-play')).toHaveAttribute('aria-pressed', 'true');
  await screenshot(page, testInfo, 'ux-generate-done-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('generate: a second take; B swaps the previous one into the viewer and back', async ({ page, app, consoleErrors }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await page.getByTestId('prompt').fill('a blue fox in the snow');
  await tiny(page);
  await page.getByTestId('generate').click();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /blue fox/);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('b');
  await expect(viewer).toHaveAttribute('data-comparing', 'true');
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /red fox/);
  await page.keyboard.press('b');
  await expect(viewer).toHaveAttribute('data-comparing', 'false');
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /blue fox/);
  expect(consoleErrors).toEqual([]);
});
