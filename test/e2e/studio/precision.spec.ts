/**
 * The labelled int8 precision, end to end against the real web-mode backend and the starter model: chosen in
 * Settings (the hint says what it trades), it reaches the next generation at once; the job's card says it ran
 * int8 on the CPU; History shows "CPU · int8 (approximate)"; re-run exact repeats the int8 frames bit for bit;
 * back on fp32 the same seed gives other frames (the int8 products really ran).
 */
import { doneGenerations, openInHistory } from './input-history';
import { expect, frameHashes, screenshot, test } from './studio-fixture';

// A backend of its own: the serial studio specs count History's records.
test.use({ backend: 'precision' });
test.setTimeout(180_000);

async function tinyGenerate(page: import('@playwright/test').Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await page.getByTestId('prompt').fill('a paper boat on a pond');
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill('4');
  await page.getByTestId('steps-number').fill('2');
  await page.getByTestId('guidance-number').fill('1');
  await page.getByTestId('seed-lock').click();
  await page.getByTestId('seed-input').fill('77');
  await page.getByTestId('generate').click();
}

test('int8 chosen in Settings: said on the job, shown in History, reproducible, and not fp32', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Settings' }).click();
  const picker = page.getByTestId('precision-picker');
  await expect(picker.locator('option[value="int8"]')).toHaveText('int8 — faster on the CPU, approximate');
  await picker.selectOption('int8');
  await expect(page.getByTestId('precision-hint')).toContainText('close but not identical');
  // The chosen label is read whole, not cut to "int8 — fa…" (text width + the arrow's room inside the box).
  const fits = await picker.evaluate((el: HTMLSelectElement) => {
    const ctx = document.createElement('canvas').getContext('2d');
    if (!ctx) return false;
    const cs = getComputedStyle(el);
    ctx.font = cs.font;
    const inner = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    return ctx.measureText(el.selectedOptions[0].text).width + 20 <= inner; // 20 px: the drop-down arrow
  });
  expect(fits).toBe(true);
  await screenshot(page, testInfo, 'settings-int8');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('toasts')).toContainText('Settings saved');

  await tinyGenerate(page);
  const job = page.getByTestId('job').first();
  await expect(job).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(job.getByTestId('job-notes')).toContainText('int8 on CPU');
  const [rec] = await doneGenerations(app);
  expect(rec.params.precision).toBe('int8');
  expect(rec.ranOn).toMatchObject({ provider: 'cpu', precision: 'int8' });

  const details = await openInHistory(page, rec.id);
  await expect(details.getByTestId('history-ran-on')).toHaveText('CPU · int8 (approximate)');
  await screenshot(page, testInfo, 'history-int8');
  await details.getByTestId('history-rerun').click();
  await expect.poll(async () => (await doneGenerations(app)).length, { timeout: 150_000 }).toBe(2);
  const rerun = (await doneGenerations(app)).find((r) => r.origin === 'rerun');
  const frames = frameHashes(rec.outputs?.framesDir ?? '');
  expect(frames).toHaveLength(4);
  expect(frameHashes(rerun?.outputs?.framesDir ?? '')).toEqual(frames);

  // Back to fp32: same seed, other frames.
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Settings' }).click();
  await page.getByTestId('precision-picker').selectOption('fp32');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('toasts')).toContainText('Settings saved');
  await tinyGenerate(page);
  await expect.poll(async () => (await doneGenerations(app)).length, { timeout: 150_000 }).toBe(3);
  const fp32 = (await doneGenerations(app)).at(-1);
  expect(fp32?.params.seed).toBe(77);
  expect(fp32?.ranOn?.precision).toBe('float32');
  expect(frameHashes(fp32?.outputs?.framesDir ?? '')).not.toEqual(frames);
  expect(consoleErrors).toEqual([]);
});
