/**
 * Generate picks embeddings and the VAE from the library, not from typed paths: an embedding and a VAE imported
 * in the Library place are offered on Generate (the embedding with its word and vector count; a click puts the
 * word into the prompt or negative prompt), a folder-indexed embedding whose drive is gone and an SDXL-wide one are
 * shown disabled, the clip made with the picks records them (by path, as the API always has) and shows
 * them in History, and re-run exact replays them to identical frames.
 */
import { mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { call, expect, frameHashes, screenshot, test } from './studio-fixture';

// A backend of its own: the serial studio specs expect an empty library.
test.use({ backend: 'library-pickers' });
test.setTimeout(180_000);

const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-pickers-'));
const starter = starterModel();
const H = starter.configs.text_encoder.hidden_size;
const shiny = join(files, 'shinyfox.safetensors');
writeSafetensors(shiny, [{ name: 'emb_params', dtype: 'F32', shape: [2, H], data: Float32Array.from({ length: 2 * H }, (_, i) => Math.sin(i * 0.7) * 2) }]);
const sdxlWide = join(files, 'widething.safetensors');
writeSafetensors(sdxlWide, [{ name: 'emb_params', dtype: 'F32', shape: [1, 1280], data: new Float32Array(1280).fill(0.01) }]);
// The starter model's own VAE with its output shifted: a standalone VAE file that visibly changes the clip.
const vae = join(files, 'warm-vae.safetensors');
writeSafetensors(
  vae,
  starter.vae.names().map((n) => {
    const d = Float32Array.from(starter.vae.get(n)!.readF32());
    if (n === 'decoder.conv_out.bias') for (let i = 0; i < d.length; i++) d[i] += 0.5;
    return { name: n, dtype: 'F32' as const, shape: starter.vae.get(n)!.shape, data: d };
  }),
);
// A model folder whose drive goes away: its embedding stays listed, offline.
const folder = join(files, 'usb-drive');
mkdirSync(folder);
writeSafetensors(join(folder, 'faraway.safetensors'), [{ name: 'emb_params', dtype: 'F32', shape: [1, H], data: new Float32Array(H).fill(0.2) }]);

async function place(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
}

test('embeddings and a VAE picked from the library on Generate, recorded and shown in History, re-run exact', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await place(page, 'Library');
  for (const path of [shiny, vae, sdxlWide]) {
    await page.getByTestId('import-path').fill(path);
    await page.getByTestId('import-path-submit').click();
    await expect.poll(async () => (await call(app, 'listModels')).some((i) => i.path === path)).toBe(true);
  }
  const added = await call(app, 'addModelFolder', folder, 'plain');
  await expect.poll(async () => (await call(app, 'listModels')).find((i) => i.path === join(folder, 'faraway.safetensors'))?.kind, { timeout: 30_000 }).toBe('embedding');
  renameSync(folder, `${folder}-unplugged`);
  await call(app, 'refreshLibrary');
  expect((await call(app, 'listModelFolders')).find((f) => f.id === added.id)?.status).toBe('offline');

  await place(page, 'Generate');
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill('4');
  await page.getByTestId('steps-number').fill('2');
  await page.getByTestId('guidance-number').fill('1.5');
  await page.getByTestId('prompt').fill('a fox in the snow');
  await page.getByTestId('negative-prompt').fill('blurry');
  const extra = page.getByTestId('extra-files');
  await extra.locator('summary').click();

  const option = (word: string) => extra.getByTestId('embedding-option').and(page.locator(`[data-word="${word}"]`));
  await expect(option('shinyfox')).toContainText('2 vectors');
  await expect(option('faraway')).toContainText('offline');
  await expect(option('faraway').getByRole('checkbox')).toBeDisabled();
  await expect(option('widething').getByRole('checkbox')).toBeDisabled();
  await expect(option('widething')).toContainText('SDXL');

  // A click puts the word in the prompt and picks the file; the negative prompt takes it too.
  await option('shinyfox').getByRole('button', { name: 'Insert shinyfox into the prompt' }).click();
  await expect(page.getByTestId('prompt')).toHaveValue('a fox in the snow, shinyfox');
  await expect(option('shinyfox').getByRole('checkbox')).toBeChecked();
  await option('shinyfox').getByRole('button', { name: 'Insert shinyfox into the negative prompt' }).click();
  await expect(page.getByTestId('negative-prompt')).toHaveValue('blurry, shinyfox');
  // The token counter counts the embedding's two vectors: one word, two tokens.
  await expect(page.getByTestId('prompt-tokens')).toBeVisible();

  const vaePicker = extra.getByTestId('vae-picker');
  await expect(vaePicker.locator('option').first()).toHaveText('The checkpoint’s own VAE');
  await vaePicker.selectOption({ label: 'warm-vae' });
  await expect(vaePicker).toHaveValue(vae);
  await extra.getByTestId('embeddings').scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'generate-library-pickers-1280');

  await page.getByTestId('generate').click();
  const job = page.getByTestId('job').filter({ hasText: 'shinyfox' });
  await expect(job).toHaveAttribute('data-status', 'done', { timeout: 90_000 });

  const [rec] = (await call(app, 'listGenerations', { text: 'shinyfox' })).items;
  expect(rec.params.vae).toBe(vae);
  // The record names the files by path, as it did when they were typed: the library pick changes nothing downstream.
  expect(rec.params.embeddings).toEqual([expect.objectContaining({ path: shiny })]);

  await place(page, 'History');
  const card = page.locator(`[data-testid="history-card"][data-generation-id="${rec.id}"]`);
  await card.locator('.history-thumb').click();
  const details = page.getByTestId('history-details');
  await expect(details).toContainText('shinyfox');
  await expect(details).toContainText('warm-vae.safetensors');

  await details.getByTestId('history-rerun').click();
  await expect.poll(async () => (await call(app, 'listGenerations', { status: 'done' })).items.filter((r) => r.origin === 'rerun').length, { timeout: 90_000 }).toBe(1);
  const rerun = (await call(app, 'listGenerations', { status: 'done' })).items.find((r) => r.origin === 'rerun');
  expect(rerun?.params.vae).toBe(vae);
  expect(frameHashes(rerun?.outputs?.framesDir ?? '')).toEqual(frameHashes(rec.outputs?.framesDir ?? ''));
  renameSync(`${folder}-unplugged`, folder);
  expect(consoleErrors).toEqual([]);
});
