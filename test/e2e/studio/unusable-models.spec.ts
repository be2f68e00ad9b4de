/**
 * A checkpoint the studio cannot run (a UNet alone, cut from the starter model) is imported as what it is: the
 * library says it cannot be used and why — never "Imported" — and the Generate place's model picker does not
 * offer it, while a full checkpoint imported next to it is offered.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { writeStarterFiles } from '../../node/pipeline/starter-files';
import { call, expect, test } from './studio-fixture';

const files = mkdtempSync(join(tmpdir(), 'animatelcm-e2e-unusable-'));
const full = writeStarterFiles(files).model;
const unetOnly = join(files, 'unet-only.safetensors');
{
  const s = starterModel();
  writeSafetensors(
    unetOnly,
    s.unet.names().map((n) => ({ name: `unet.${n}`, dtype: 'F32' as const, shape: s.unet.get(n)!.shape, data: s.unet.get(n)!.readF32() })),
    { 'unet.config': JSON.stringify(s.configs.unet) },
  );
}

test('an unusable checkpoint is reported as such at import and never offered as the model', async ({ page, app, consoleErrors }) => {
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Library' }).click();

  await page.getByTestId('import-path').fill(unetOnly);
  await page.getByTestId('import-path-submit').click();
  const importError = page.getByTestId('import-error');
  await expect(importError).toContainText('UNet only (no VAE, no text encoder)');
  await expect(importError).toContainText('cannot be used');
  const card = page.getByTestId('library-card').filter({ hasText: 'unet-only' });
  await expect(card.getByTestId('card-unsupported')).toContainText('holds only a UNet');
  await expect(page.getByTestId('toasts')).not.toContainText('Imported');

  await page.getByTestId('import-path').fill(full);
  await page.getByTestId('import-path-submit').click();
  await expect(page.getByTestId('toasts')).toContainText('Imported starter-checkpoint');
  const items = await call(app, 'listModels', { kind: 'checkpoint' });
  expect(items.map((i) => [i.name, i.supported])).toEqual(expect.arrayContaining([['unet-only', false], ['starter-checkpoint', true]]));

  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Generate' }).click();
  const picker = page.getByTestId('model-picker');
  await expect(picker.locator('option', { hasText: 'starter-checkpoint' })).toHaveCount(1);
  await expect(picker.locator('option', { hasText: 'unet-only' })).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});
