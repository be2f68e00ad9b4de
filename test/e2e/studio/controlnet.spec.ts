/**
 * ControlNet units on Generate: add two units, fill the files, pick canny, set the weight and window, reorder,
 * disable one; the job runs with the enabled unit and the history record carries every unit as the form sent it.
 * A unit whose conditioning input does not exist is refused with the reason before anything is queued. The
 * preview shows the unit's control maps (served by the media route) and changes with the preprocessor. A control
 * video longer than the clip is used from its start, and both the preview and the job card say so; a shorter one
 * is refused in the preview with both frame counts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { encodePng } from '../../../src/main/formats/png';
import { starterModel, STARTER_UNET } from '../../../src/main/engine/starter/starter-model';
import { writeTestControlNet } from '../../node/controlnet/test-controlnet-file';
import { call, expect, test } from './studio-fixture';

// A backend of its own: the serial studio specs count History's records and library items.
test.use({ backend: 'controlnet' });

const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-controlnet-'));
const cn = writeTestControlNet(join(files, 'cn'), starterModel().unet, STARTER_UNET);
const image = join(files, 'edges.png');
{
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let p = 0; p < 64 * 64; p++) rgb.fill((p % 64) + Math.floor(p / 64) > 64 ? 255 : 0, 3 * p, 3 * p + 3);
  writeFileSync(image, encodePng(rgb, 64, 64));
}

/** A lossless test-pattern video of `frames` frames at 64×64 (ffmpeg, FFV1). */
function video(name: string, frames: number): string {
  const path = join(files, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=8', '-frames:v', String(frames), '-c:v', 'ffv1', path]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr.toString()}`);
  return path;
}

async function tiny(page: Page) {
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill('4');
  await page.getByTestId('steps-number').fill('2');
}

test('ControlNet units: add, edit, reorder, disable, generate; the record carries the units', async ({ page, app, consoleErrors }) => {
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await page.getByTestId('prompt').fill('a paper boat');
  await tiny(page);
  const units = page.getByTestId('controlnet-unit');
  await page.getByTestId('controlnet-add').click();
  await page.getByTestId('controlnet-add').click();
  await expect(units).toHaveCount(2);
  await page.getByTestId('controlnet-model-0').fill(cn);
  await page.getByTestId('controlnet-control-0').fill(join(files, 'missing.png'));
  await page.getByTestId('controlnet-model-1').fill(cn);
  await page.getByTestId('controlnet-control-1').fill(image);
  await page.getByTestId('controlnet-preprocess-1').selectOption('canny');
  await page.getByTestId('controlnet-scale-1-number').fill('0.8');
  await page.getByTestId('controlnet-end-1-number').fill('0.5');

  // The unit with the missing input is refused with the reason; nothing is queued.
  await page.getByTestId('generate').click();
  await expect(page.getByText(/The ControlNet 1 conditioning input .*missing\.png does not exist/)).toBeVisible();
  expect((await call(app, 'listGenerations', {})).items).toHaveLength(0);

  // Move the good unit first, switch the other off.
  await page.getByRole('button', { name: 'Move ControlNet unit 2 up' }).click();
  await expect(page.getByTestId('controlnet-control-0')).toHaveValue(image);
  await page.getByRole('checkbox', { name: 'Use ControlNet unit 2' }).uncheck();
  await page.getByTestId('generate').click();
  const job = page.getByTestId('job').first();
  await expect(job).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const [rec] = (await call(app, 'listGenerations', {})).items;
  expect(rec.params.controlNets).toHaveLength(2);
  expect(rec.params.controlNets?.[0]).toMatchObject({ model: cn, control: image, preprocess: 'canny', scale: 0.8, start: 0, end: 0.5 });
  expect(rec.params.controlNets?.[1]).toMatchObject({ enabled: false, control: join(files, 'missing.png') });
  expect(consoleErrors).toEqual([]);
});

test('ControlNet preview: the control maps show next to the unit and follow the preprocessor', async ({ page, app, consoleErrors }) => {
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await tiny(page);
  await page.getByTestId('controlnet-add').click();
  await page.getByTestId('controlnet-control-0').fill(join(files, 'missing.png'));
  await expect(page.getByTestId('controlnet-preview-error-0')).toContainText(/ControlNet unit 1: .*missing\.png does not exist/);

  await page.getByTestId('controlnet-control-0').fill(image);
  const imgs = page.getByTestId('controlnet-preview-0').locator('img');
  // 4 frames: first, last and two between.
  await expect(imgs).toHaveCount(4);
  const loaded = async () => imgs.evaluateAll((els) => els.map((e) => [(e as HTMLImageElement).currentSrc, (e as HTMLImageElement).naturalWidth, (e as HTMLImageElement).complete] as const));
  await expect.poll(async () => (await loaded()).every(([, w, done]) => done && w === 64)).toBe(true);
  const plain = await loaded();

  await page.getByTestId('controlnet-preprocess-0').selectOption('canny');
  await expect.poll(async () => (await loaded())[0]?.[0]).not.toBe(plain[0][0]);
  await expect.poll(async () => (await loaded()).every(([, w, done]) => done && w === 64)).toBe(true);
  // The edge map differs from the plain input: compare the first frame's pixels in a canvas.
  const pixels = (src: string) =>
    page.evaluate(async (u) => {
      const img = new Image();
      img.src = u;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      return Array.from(g.getImageData(0, 0, c.width, c.height).data);
    }, src);
  const a = await pixels(plain[0][0]);
  const b = await pixels((await loaded())[0][0]);
  expect(a.length).toBe(64 * 64 * 4);
  expect(b).not.toEqual(a);
  expect(consoleErrors).toEqual([]);
});

test('a control video longer than the clip: the preview and the job card say its first frames are used; a shorter one is refused with both counts', async ({ page, app, consoleErrors }) => {
  test.setTimeout(180_000); // one real generation on a shared machine
  const long = video('long.mkv', 7);
  const short = video('short.mkv', 3);
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  await page.getByTestId('prompt').fill('a paper kite');
  await tiny(page);
  await page.getByTestId('controlnet-add').click();
  await page.getByTestId('controlnet-model-0').fill(cn);
  await page.getByTestId('controlnet-control-0').fill(long);
  await expect(page.getByTestId('controlnet-preview-0').locator('img')).toHaveCount(4);
  await expect(page.getByTestId('controlnet-preview-notes-0')).toContainText('The control video has more than 4 frames; its first 4 are used.');

  await page.getByTestId('generate').click();
  const job = page.getByTestId('job').filter({ hasText: 'a paper kite' });
  await expect(job).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(job.getByTestId('job-notes')).toContainText('ControlNet unit 1: The control video has more than 4 frames; its first 4 are used.');

  await page.getByTestId('controlnet-control-0').fill(short);
  await expect(page.getByTestId('controlnet-preview-error-0')).toContainText(/ControlNet unit 1 \(short\.mkv\): The control video has 3 frames but the clip has 4/);
  await expect(page.getByTestId('controlnet-preview-notes-0')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
