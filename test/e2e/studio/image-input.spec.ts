/**
 * Image to video on Generate, end to end against the real web-mode backend and the starter model (it has an image
 * encoder): a file that is not a picture is refused with the reason; a small PNG picked with the file chooser is
 * stored under its hash and shown as a thumbnail with the mode, motion scale and colour match; the job runs; History
 * shows the mode; re-roll and re-run exact reuse the stored picture, and re-run exact gives identical frames; reuse
 * parameters brings the picture back to Generate, Remove returns to text to video, and a drop takes it again.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doneGenerations, openInHistory, rerollAndRerunExact } from './input-history';
import { expect, screenshot, sha256File, test } from './studio-fixture';

// A backend of its own: the serial studio specs count History's records.
test.use({ backend: 'image-input' });
test.setTimeout(180_000);

const PICTURE = 'test/fixtures/reference/pipeline_animatelcm_i2v/input_image.png';

test('generate from a picked PNG; History shows the mode; re-roll and re-run exact reuse the stored picture', async ({ page, app, consoleErrors }, testInfo) => {
  const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-input-'));
  const notPicture = join(files, 'notes.png');
  writeFileSync(notPicture, 'not a picture\n');

  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  const box = page.getByTestId('input-media');
  await expect(page.getByTestId('input-mode')).toHaveText('Text to video');

  // A text file named .png: refused, saying which file and what to use; the draft stays text to video.
  let chooser = page.waitForEvent('filechooser');
  await page.getByTestId('input-pick').click();
  await (await chooser).setFiles(notPicture);
  await expect(box.getByTestId('error-panel')).toContainText('notes.png could not be read as an image');
  await expect(page.getByTestId('input-mode')).toHaveText('Text to video');

  chooser = page.waitForEvent('filechooser');
  await page.getByTestId('input-pick').click();
  await (await chooser).setFiles(PICTURE);
  await expect(page.getByTestId('input-mode')).toHaveText('Image to video');
  const thumb = page.getByTestId('input-thumbnail');
  await expect(thumb).toBeVisible();
  // The thumbnail is served (decoded by the browser), not a broken image.
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId('motion-scale-number')).toHaveValue('0.8');
  await expect(page.getByTestId('color-match')).toBeChecked();
  await page.getByTestId('motion-scale-number').fill('0.6');

  await page.getByTestId('prompt').fill('a face, smiling');
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill('8');
  await page.getByTestId('steps-number').fill('2');
  await page.getByTestId('guidance-number').fill('1');
  await page.getByTestId('seed-input').fill('4321');
  await page.getByTestId('seed-lock').click();
  await box.scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'generate-image-input');

  await page.getByTestId('generate').click();
  await expect(page.getByTestId('job').first()).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const [original] = await doneGenerations(app);
  const sha = sha256File(PICTURE);
  expect(original.params.input).toEqual({ kind: 'image', path: expect.stringMatching(new RegExp(`inputs[/\\\\]${sha}\\.png$`)), sha256: sha, motionScale: 0.6, colorMatch: true });
  expect(readFileSync(original.params.input?.path ?? '').equals(readFileSync(PICTURE))).toBe(true);
  expect(original.outputs?.frameCount).toBe(8);

  const details = await openInHistory(page, original.id);
  await expect(details.getByTestId('history-mode')).toHaveText('Image → video · motion scale 0.6 · colour match on');
  await screenshot(page, testInfo, 'history-image-input');
  await rerollAndRerunExact(details, app, original, 8);

  // Reuse parameters: Generate shows the stored picture again (its thumbnail by hash) with its motion settings;
  // Remove goes back to text to video.
  await details.getByTestId('history-reuse').click();
  await expect(page.getByTestId('input-mode')).toHaveText('Image to video');
  await expect(page.getByTestId('input-name')).toHaveText(`${sha}.png`);
  await expect.poll(() => page.getByTestId('input-thumbnail').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId('motion-scale-number')).toHaveValue('0.6');
  await page.getByTestId('input-remove').click();
  await expect(page.getByTestId('input-mode')).toHaveText('Text to video');
  await expect(page.getByTestId('motion-scale-number')).toHaveCount(0);

  // Dropping the picture on the box (a drop from the desktop carries Files) takes it again, by hash.
  const bytes = [...readFileSync(PICTURE)];
  await box.evaluate((el, data) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
    el.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    el.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await expect(page.getByTestId('input-mode')).toHaveText('Image to video');
  await expect(page.getByTestId('input-name')).toHaveText('dropped.png');
  await expect(page.getByTestId('input-name')).toHaveAttribute('title', original.params.input?.path ?? '');
  expect(consoleErrors).toEqual([]);
});
