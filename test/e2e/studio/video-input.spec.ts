/**
 * Video to video on Generate, end to end against the real web-mode backend and the starter model: a small clip made
 * by ffmpeg at test time (odd size, its own frame rate) picked with the file chooser is stored under its hash and
 * shown as a thumbnail with the mode and the strength control; the job runs; History shows the mode and strength;
 * re-roll and re-run exact reuse the stored clip, and re-run exact gives identical frames.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doneGenerations, openInHistory, rerollAndRerunExact } from './input-history';
import { expect, screenshot, sha256File, test } from './studio-fixture';

// A backend of its own: the serial studio specs count History's records.
test.use({ backend: 'video-input' });
test.setTimeout(180_000);

test('generate from a picked clip; History shows the mode and strength; re-run exact gives identical frames', async ({ page, app, consoleErrors }, testInfo) => {
  const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-video-'));
  const clip = join(files, 'waves.mp4');
  // 2 s at 12 fps, 90×50: resampled to the clip's 8 fps and cropped to 64×64 by the backend.
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=90x50:rate=12', '-t', '2', '-pix_fmt', 'yuv420p', clip]);

  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('input-mode')).toHaveText('Text to video');

  const chooser = page.waitForEvent('filechooser');
  await page.getByTestId('input-pick').click();
  await (await chooser).setFiles(clip);
  await expect(page.getByTestId('input-mode')).toHaveText('Video to video');
  const thumb = page.getByTestId('input-thumbnail');
  await expect(thumb).toBeVisible();
  // The first frame is served as the thumbnail and decodes in the browser.
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expect(page.getByTestId('input-name')).toHaveText('waves.mp4');
  await expect(page.getByTestId('motion-scale-number')).toHaveCount(0);
  await page.getByTestId('strength-number').fill('0.6');

  await page.getByTestId('prompt').fill('waves, oil painting');
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill('8');
  await page.getByTestId('fps-number').fill('8');
  await page.getByTestId('steps-number').fill('2');
  await page.getByTestId('guidance-number').fill('1');
  await page.getByTestId('seed-input').fill('97');
  await page.getByTestId('seed-lock').click();
  await screenshot(page, testInfo, 'generate-video-input');

  await page.getByTestId('generate').click();
  await expect(page.getByTestId('job').first()).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  const [original] = await doneGenerations(app);
  const sha = sha256File(clip);
  expect(original.params.input).toEqual({ kind: 'video', path: expect.stringMatching(new RegExp(`inputs[/\\\\]${sha}\\.mp4$`)), sha256: sha, strength: 0.6 });
  expect(readFileSync(original.params.input?.path ?? '').equals(readFileSync(clip))).toBe(true);
  expect(original.outputs?.frameCount).toBe(8);

  const details = await openInHistory(page, original.id);
  await expect(details.getByTestId('history-mode')).toHaveText('Video → video · strength 0.6');
  await screenshot(page, testInfo, 'history-video-input');
  await rerollAndRerunExact(details, app, original, 8);
  expect(consoleErrors).toEqual([]);
});
