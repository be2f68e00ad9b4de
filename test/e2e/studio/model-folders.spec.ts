/**
 * Library place: the first-run card lists what AnimateLCM needs; a model folder added by path is indexed in place
 * (its row says how many models), its LoRA appears as a card with its sidecar's trigger words (and follows an edit
 * of the sidecar), and the folder's
 * state follows the drive (offline greys its items).
 */
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LORA_KOHYA } from '../../node/store/helpers';
import { call, expect, test } from './studio-fixture';

// A backend of its own: the serial studio specs expect an empty library.
test.use({ backend: 'model-folders' });

const root = join(mkdtempSync(join(tmpdir(), 'animatelcm-e2e-folders-')), 'webui');
mkdirSync(join(root, 'models', 'Lora'), { recursive: true });
copyFileSync(LORA_KOHYA, join(root, 'models', 'Lora', 'paper.safetensors'));
writeFileSync(join(root, 'models', 'Lora', 'paper.json'), JSON.stringify({ 'activation text': 'papercut style' }));
mkdirSync(join(root, 'models', 'Stable-diffusion'));

test('first-run card, a model folder added in place, offline greyed', async ({ page, app, consoleErrors }) => {
  await page.goto(app.url);
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Library' }).click();
  const firstRun = page.getByTestId('first-run');
  await expect(firstRun).toContainText('AnimateLCM_sd15_t2v.ckpt');
  await expect(firstRun).toContainText('AnimateLCM_sd15_t2v_lora.safetensors');
  await expect(firstRun).toContainText('huggingface.co/wangfuyun/AnimateLCM');

  await page.getByTestId('folder-path').fill(root);
  await page.getByTestId('folder-add').click();
  const row = page.getByTestId('folder-row').filter({ hasText: root });
  await expect(row).toContainText('a1111');
  await expect(row).toContainText('1 model(s)', { timeout: 30_000 });
  await expect(page.getByTestId('library-card').filter({ hasText: 'papercut style' })).toHaveCount(1);

  // The creator edits the sidecar in their other tool: the card follows, with no reload and no re-hash.
  writeFileSync(join(root, 'models', 'Lora', 'paper.json'), JSON.stringify({ 'activation text': 'folded paper', 'preferred weight': 0.7, 'sd version': 'SD1' }));
  const edited = page.getByTestId('library-card').filter({ hasText: 'folded paper' });
  await expect(edited).toHaveCount(1, { timeout: 15_000 });
  await expect(edited.getByTestId('card-sidecar')).toHaveText('For SD1 · weight 0.7');

  renameSync(root, `${root}-unplugged`);
  await call(app, 'refreshLibrary');
  await page.reload();
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Library' }).click();
  await expect(page.getByTestId('folder-row').filter({ hasText: root })).toContainText('Offline');
  await expect(page.getByTestId('library-card').filter({ hasText: 'folded paper' })).toHaveClass(/card-offline/);
  renameSync(`${root}-unplugged`, root);
  expect(consoleErrors).toEqual([]);
});
