/**
 * The Library and Generate at 1280×720 as a creator first sees them: the Getting-started card has inner padding,
 * its Download buttons stay on their row, and collapsed it is one line that leaves the library items in view; the
 * Generate panel's Model and Motion module pickers are wide enough for long names and say the whole name in their
 * tooltip. Screenshots under test-results/screenshots/ (library-first-run-1280, library-first-run-collapsed-1280,
 * generate-model-pickers-1280, generate-model-pickers-1920).
 */
import { renameSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { writeStarterFiles } from '../../node/pipeline/starter-files';
import { selectShowsWhole } from './select-fit';
import { writeStarterLora } from './starter-lora';
import { call, expect, screenshot, test } from './studio-fixture';

test.use({ backend: 'library-ux' });
test.setTimeout(150_000);

const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-library-ux-'));
const starter = writeStarterFiles(files);
const model = join(files, 'dreamshaper_8_pruned_fp16_with_baked_vae_v2.safetensors');
renameSync(starter.model, model);
const motion = join(files, 'AnimateLCM_sd15_t2v_motion_module_renamed.safetensors');
renameSync(starter.motion, motion);
const lora = join(files, 'watercolor-style.safetensors');
writeStarterLora(lora);

async function place(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
}

test('Getting started: padded, buttons on their rows, one line when collapsed; Generate pickers show whole names', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  for (const path of [model, motion, lora]) await call(app, 'importFile', path);
  await page.goto(app.url);
  await place(page, 'Library');
  const card = page.getByTestId('first-run');
  await expect(card).toContainText('AnimateLCM_sd15_i2v.ckpt');
  await screenshot(page, testInfo, 'library-first-run-1280');

  // Inner padding, and every Download button on its file's row (not wrapped onto a line of its own).
  const padding = await card.evaluate((el) => parseFloat(getComputedStyle(el).paddingLeft));
  // Soft: a layout fault is reported with every screenshot still taken, so before/after can be compared.
  expect.soft(padding).toBeGreaterThanOrEqual(12);
  const rows = card.locator('[data-testid^="starter-"]');
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const button = row.getByRole('button', { name: /^Download/ });
    if ((await button.count()) === 0) continue;
    const [r, b] = [await row.boundingBox(), await button.boundingBox()];
    if (!r || !b) throw new Error('a starter row is not laid out');
    expect.soft(b.y - r.y, `${await row.getAttribute('data-testid')}: the button sits below the text`).toBeLessThan(16);
    expect.soft(await button.evaluate((el) => el.scrollHeight <= el.clientHeight + 1 && getComputedStyle(el).whiteSpace === 'nowrap')).toBe(true);
  }

  // Collapsed: one line, and the library's items are in view at 1280×720.
  if ((await card.locator('summary').count()) > 0) await card.locator('summary').click();
  const box = await card.boundingBox();
  expect.soft(box?.height ?? 999).toBeLessThanOrEqual(56);
  await expect.soft(page.getByTestId('library-card').first()).toBeInViewport();
  await screenshot(page, testInfo, 'library-first-run-collapsed-1280');

  await place(page, 'Generate');
  await page.getByTestId('model-picker').selectOption(model);
  await page.getByTestId('motion-picker').selectOption(motion);
  for (const [id, name] of [
    ['model-picker', 'dreamshaper_8_pruned_fp16_with_baked_vae_v2'],
    ['motion-picker', 'AnimateLCM_sd15_t2v_motion_module_renamed'],
  ]) {
    const picker = page.getByTestId(id);
    await expect.soft(picker).toHaveAttribute('title', new RegExp(`^${name}`));
    // Cut in the middle, not at the end: the part that tells versions apart stays.
    expect.soft(await picker.evaluate((el: HTMLSelectElement) => el.selectedOptions[0]?.text ?? '')).toContain(name.slice(-10));
    // As wide as the panel's form, so the name is shown, not cut after a few letters.
    const [p, f] = [await picker.boundingBox(), await page.locator('#generate-form').boundingBox()];
    expect.soft((p?.width ?? 0) / (f?.width ?? 1)).toBeGreaterThan(0.85);
  }
  await page.getByTestId('model-picker').scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'generate-model-pickers-1280');
  // The chosen checkpoint's name is shown whole in the picker at both sizes, its family on the line under it (the
  // name and family together were cut after the name).
  const family = (await call(app, 'listModels', { kind: 'checkpoint' })).find((m) => m.path === model)?.familyLabel;
  expect(family).toBeTruthy();
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    expect.soft(await selectShowsWhole(page.getByTestId('model-picker')), `the chosen checkpoint is cut at ${size.width}×${size.height}`).toBe(true);
    await expect.soft(page.getByTestId('model-note')).toHaveText(family ?? '', { timeout: 1000 });
  }
  await screenshot(page, testInfo, 'generate-model-pickers-1920');
  // The chosen checkpoint taken out of the library: the draft keeps its path, and the line under the picker says why
  // the picker no longer shows it.
  const item = (await call(app, 'listModels', { kind: 'checkpoint' })).find((m) => m.path === model);
  await call(app, 'removeItem', item?.id);
  await place(page, 'Library');
  await place(page, 'Generate');
  await expect.soft(page.getByTestId('model-note')).toHaveText(/^Not in the library/);
  expect(consoleErrors).toEqual([]);
});
