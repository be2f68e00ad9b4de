/**
 * History steps the image- and video-input specs share: a generation from a stored input is opened in History,
 * re-rolled and re-run exactly; both must reuse the stored input, the re-run must give the original's frames and
 * the re-roll (a new seed) other ones, so the identity is the re-run's and not a constant output.
 */
import type { Locator, Page } from '@playwright/test';
import type { GenerationRecord } from '../../../src/shared/domain/history';
import { call, expect, frameHashes } from './studio-fixture';

type App = Parameters<typeof call>[0];

/** Finished generations, oldest first. */
export async function doneGenerations(app: App): Promise<GenerationRecord[]> {
  return (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items;
}

/** Opens History on the generation `id` and returns its details panel. */
export async function openInHistory(page: Page, id: number): Promise<Locator> {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'History' }).click();
  await page.locator(`[data-testid="history-card"][data-generation-id="${id}"] .history-thumb`).click();
  return page.getByTestId('history-details');
}

/** From the open details of `original` (the only done generation so far): re-roll, then re-run exact. */
export async function rerollAndRerunExact(details: Locator, app: App, original: GenerationRecord, frameCount: number): Promise<void> {
  await details.getByTestId('history-reroll').click();
  await expect.poll(async () => (await doneGenerations(app)).length, { timeout: 150_000 }).toBe(2);
  await details.getByTestId('history-rerun').click();
  await expect.poll(async () => (await doneGenerations(app)).length, { timeout: 150_000 }).toBe(3);
  const all = await doneGenerations(app);
  const reroll = all.find((r) => r.origin === 'reroll');
  const rerun = all.find((r) => r.origin === 'rerun');
  expect(reroll?.params.input).toEqual(original.params.input);
  expect(rerun?.params.input).toEqual(original.params.input);
  const frames = frameHashes(original.outputs?.framesDir ?? '');
  expect(frames).toHaveLength(frameCount);
  expect(frameHashes(rerun?.outputs?.framesDir ?? '')).toEqual(frames);
  expect(frameHashes(reroll?.outputs?.framesDir ?? '')).not.toEqual(frames);
}
