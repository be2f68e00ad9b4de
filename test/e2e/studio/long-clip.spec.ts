/**
 * Long clips on the Generate form: context windows under Advanced lift the frame limit (starter model: 32 → 256),
 * prompt keyframes are added at the lane's playhead, edited, moved and deleted, and a 40-frame clip with windows and a keyframe runs
 * with the window count in its progress and lands in History with both settings.
 */
import type { Page } from '@playwright/test';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { withStudio, type Studio } from '../fixtures';
import { call, expect, recordStatusTexts, screenshot, test as studioTest } from './studio-fixture';

// A backend of its own (a worker fixture of its own makes Playwright start a separate worker), so the other studio
// specs, which build on each other's history, never see this clip.
const test = studioTest.extend<object, { app: Studio }>({ app: [async ({}, use) => withStudio(use), { scope: 'worker', timeout: 60_000 }] });

test.setTimeout(180_000);

async function openGenerate(page: Page, url: string) {
  await page.goto(url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
}

test('generate: a 40-frame clip with context windows and a prompt keyframe', async ({ page, app, consoleErrors }, testInfo) => {
  await openGenerate(page, app.url);
  const frames = page.getByTestId('frames-number');
  // Without windows the motion module's own limit (typed values up to 64); with them, 256.
  await expect(frames).toHaveAttribute('max', '64');

  await page.getByTestId('long-clip').locator('summary').click();
  await page.getByTestId('context-windows').check();
  await expect(frames).toHaveAttribute('max', '256');
  await expect(page.getByText(/context windows keep the motion module inside overlapping 16-frame windows/).first()).toBeVisible();
  await page.getByTestId('context-length-number').fill('16');
  await page.getByTestId('context-stride-number').fill('8');
  await page.getByTestId('context-weighting').selectOption('pyramid');

  await page.getByTestId('prompt').fill('a red ball');
  await page.getByTestId('size-preset').selectOption('64x64');
  await frames.fill('40');
  await page.getByTestId('steps-number').fill('2');
  await page.getByTestId('guidance-number').fill('1');

  // Add two keyframes at the playhead (a frame holds one), edit, move one, delete the other; the lane shows them.
  await page.getByTestId('keyframe-playhead').fill('20');
  await page.getByTestId('add-keyframe').click();
  await page.getByTestId('keyframe-playhead').fill('30');
  await page.getByTestId('add-keyframe').click();
  await expect(page.getByTestId('add-keyframe')).toBeDisabled();
  const rows = page.getByTestId('keyframe');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('keyframe-marker')).toHaveCount(2);
  await expect(rows.nth(1).getByTestId('keyframe-frame')).toHaveValue('30');
  await rows.nth(0).getByTestId('keyframe-prompt').fill('a blue cube');
  await rows.nth(0).getByTestId('keyframe-frame').fill('24');
  await rows.nth(1).getByRole('button', { name: 'Delete' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('keyframe-frame')).toHaveValue('24');
  await expect(page.getByTestId('keyframe-marker')).toHaveCount(1);
  await expect(page.getByTestId('keyframe-marker')).toHaveAttribute('title', 'Frame 24: a blue cube');
  await page.getByTestId('prompt-keyframes').scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'generate-long-clip');

  await recordStatusTexts(page);
  await page.getByTestId('generate').click();
  const job = page.getByTestId('job').first();
  await expect(job).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const texts = await page.evaluate(() => (window as unknown as { __statusTexts: string[] }).__statusTexts);
  // The card's compact line names the window count (the viewer's whole line their length too).
  expect(texts.some((t) => /^Sampling \d+\/\d+ · 4 windows$/.test(t)), texts.join(' | ')).toBe(true);

  const [rec] = (await call(app, 'listGenerations', { status: 'done', order: 'newest' })).items as GenerationRecord[];
  expect(rec.params.frames).toBe(40);
  expect(rec.params.contextWindows).toEqual({ length: 16, stride: 8, weighting: 'pyramid', noise: 'shuffle_context', mode: 'studio' });
  expect(rec.params.promptKeyframes).toEqual([{ frame: 24, prompt: 'a blue cube' }]);
  expect(rec.outputs?.frameCount).toBe(40);
  expect(consoleErrors).toEqual([]);
});
