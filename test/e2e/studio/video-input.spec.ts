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
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { call, expect, frameHashes, screenshot, sha256File, test } from './studio-fixture';

// A backend of its own: the serial studio specs count History's records.
test.use({ backend: 'video-input' });
test.setTimeout(180_000);

async function done(app: Parameters<typeof call>[0]): Promise<GenerationRecord[]> {
  return (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items;
}

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
  const [original] = await done(app);
  const sha = sha256File(clip);
  expect(original.params.input).toEqual({ kind: 'video', path: expect.stringMatching(new RegExp(`inputs[/\\\\]${sha}\\.mp4$`)), sha256: sha, strength: 0.6 });
  expect(readFileSync(original.params.input?.path ?? '').equals(readFileSync(clip))).toBe(true);
  expect(original.outputs?.frameCount).toBe(8);

  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'History' }).click();
  await page.locator(`[data-testid="history-card"][data-generation-id="${original.id}"] .history-thumb`).click();
  const details = page.getByTestId('history-details');
  await expect(details.getByTestId('history-mode')).toHaveText('Video → video · strength 0.6');
  await screenshot(page, testInfo, 'history-video-input');

  await details.getByTestId('history-reroll').click();
  await expect.poll(async () => (await done(app)).length, { timeout: 150_000 }).toBe(2);
  await details.getByTestId('history-rerun').click();
  await expect.poll(async () => (await done(app)).length, { timeout: 150_000 }).toBe(3);
  const all = await done(app);
  const reroll = all.find((r) => r.origin === 'reroll');
  const rerun = all.find((r) => r.origin === 'rerun');
  expect(reroll?.params.input).toEqual(original.params.input);
  expect(rerun?.params.input).toEqual(original.params.input);
  const frames = frameHashes(original.outputs?.framesDir ?? '');
  expect(frames).toHaveLength(8);
  expect(frameHashes(rerun?.outputs?.framesDir ?? '')).toEqual(frames);
  // A new seed on the same clip gives other frames: the identity above is the re-run's, not a constant output.
  expect(frameHashes(reroll?.outputs?.framesDir ?? '')).not.toEqual(frames);
  expect(consoleErrors).toEqual([]);
});
