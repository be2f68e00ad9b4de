/**
 * Issue 19, the studio as a creator feels it, in Chromium against the real web-mode backend and the starter model:
 * the Generate viewer (live preview at the viewer's size from step 1, the finished clip with a scrubber, the
 * previous take one key away), the Generate button, the viewer's progress and the running job's card in view at
 * 1280×720,
 * truthful state (settings apply at once, refused values say why, bars that end, errors in a creator's words),
 * prompt conveniences (<lora:…> applied, token counter, Ctrl+↑/↓), the engine options, the themes, and every
 * place photographed at 1280×720 and 1920×1080 into test-results/screenshots/ with no sideways scrolling.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { STARTER_LORA_TRIGGER, writeStarterLora } from './starter-lora';
import { call, expect, exportMp4ViaDialog, probeVideo, screenshot, test } from './studio-fixture';

test.describe.configure({ mode: 'serial' });
// Its own backend: the studio spec beside it expects a fresh library and history.
test.use({ backend: 'studio-ux' });
test.setTimeout(120_000);

const PLACES = ['Generate', 'Library', 'Timeline', 'History', 'Settings'] as const;
const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
  { width: 2560, height: 1440 },
] as const;

const files = mkdtempSync(join(tmpdir(), 'animatelcm-ux-files-'));
const loraPath = join(files, 'ux-style.safetensors');
writeStarterLora(loraPath, 2, 'ux-style');

async function goPlace(page: Page, place: string) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: place }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(place);
}

/** A new timeline holding these generations, opened in the Timeline place. */
async function openTimelineWith(page: Page, app: Parameters<typeof call>[0], name: string, generationIds: number[]) {
  const t = await call(app, 'createTimeline', name);
  for (const id of generationIds) await call(app, 'addClip', t.id, id);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'Timeline');
  await page.getByTestId('timeline-picker').selectOption(String(t.id));
  await expect(page.getByTestId('clip')).toHaveCount(generationIds.length);
  return t;
}

async function tiny(page: Page, frames = 8, steps = 2) {
  await page.getByTestId('size-preset').selectOption('64x64');
  await page.getByTestId('frames-number').fill(String(frames));
  await page.getByTestId('steps-number').fill(String(steps));
  await page.getByTestId('guidance-number').fill('1');
}

/** True when the whole element is inside the window. */
async function inView(page: Page, testId: string): Promise<boolean> {
  const box = await page.getByTestId(testId).first().boundingBox();
  const vp = page.viewportSize();
  return !!box && !!vp && box.y >= 0 && box.x >= 0 && box.y + box.height <= vp.height && box.x + box.width <= vp.width;
}

test('generate: the viewer shows the preview from the first step at its own size, then plays the clip with a scrubber; the button, its progress and its card stay in view at 1280×720', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-state', 'empty');
  expect(await inView(page, 'generate')).toBe(true);

  await page.getByTestId('prompt').fill('a red fox in the snow');
  await tiny(page, 16, 8);
  await page.getByTestId('size-preset').selectOption('256x256');
  await page.getByTestId('generate').click();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  // From the first sampling step the preview is drawn in the viewer, scaled to the viewer (far above 96 px).
  await expect(page.getByTestId('viewer-preview')).toBeVisible({ timeout: 60_000 });
  const canvas = await page.getByTestId('viewer-preview').boundingBox();
  expect(canvas?.height ?? 0).toBeGreaterThan(300);
  // While it runs, the Generate button, the viewer's progress and the job's card are all on screen without scrolling.
  await expect(viewer.getByRole('progressbar')).toBeVisible();
  expect(await inView(page, 'generate')).toBe(true);
  expect(await inView(page, 'viewer-status')).toBe(true);
  expect(await inView(page, 'job')).toBe(true);
  await screenshot(page, testInfo, 'ux-generate-running-1280x720');
  await expect(viewer).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  // Finished: the viewer's bar gives way to the player.
  await expect(viewer.getByRole('progressbar')).toHaveCount(0);

  // The finished clip plays in the viewer; the scrubber picks a frame (and pauses).
  const frame = page.getByTestId('viewer-frame');
  await expect(frame).toBeVisible();
  expect((await frame.boundingBox())?.height ?? 0).toBeGreaterThan(300);
  await page.getByTestId('viewer-scrubber').fill('5');
  await expect(frame).toHaveAttribute('alt', /^Frame 6 of 16/);
  await expect(page.getByTestId('viewer-play')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('viewer-timecode')).toHaveText('6/16');
  // Space plays again.
  await page.getByTestId('viewer-scrubber').blur();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('viewer-play')).toHaveAttribute('aria-pressed', 'true');
  await screenshot(page, testInfo, 'ux-generate-done-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('generate: a second take; B swaps the previous one into the viewer and back', async ({ page, app, consoleErrors }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await page.getByTestId('prompt').fill('a blue fox in the snow');
  await tiny(page);
  await page.getByTestId('generate').click();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /blue fox/);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('b');
  await expect(viewer).toHaveAttribute('data-comparing', 'true');
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /red fox/);
  await page.keyboard.press('b');
  await expect(viewer).toHaveAttribute('data-comparing', 'false');
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', /blue fox/);
  expect(consoleErrors).toEqual([]);
});

test('truthful state: saved settings reach Generate at once, refused values say why, errors read as words, a cancelled job keeps no bar', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  // Settings apply without a restart: save a default, go back to Generate, it is there.
  await goPlace(page, 'Settings');
  await page.getByLabel('Steps value').fill('5');
  await page.getByLabel('Frames value').fill('12');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('toasts')).toContainText('Settings saved');
  await goPlace(page, 'Generate');
  await expect(page.getByTestId('steps-number')).toHaveValue('5');
  await expect(page.getByTestId('frames-number')).toHaveValue('12');

  // Out of range: refused with the reason, the last good value stays (no silent clamp).
  await page.getByTestId('frames-number').fill('0');
  await expect(page.getByTestId('frames-problem')).toHaveText('Frames goes from 2 to 64; 0 was not applied, it stays at 12.');
  await page.getByTestId('frames-number').fill('8');
  await expect(page.getByTestId('frames-problem')).toHaveCount(0);
  // Beyond the slider but inside what the engine takes: accepted as typed, not pulled back to the slider's end.
  await page.getByTestId('steps-number').fill('50');
  await expect(page.getByTestId('steps-problem')).toHaveCount(0);
  await expect(page.getByTestId('steps')).toHaveAttribute('aria-valuetext', '50');
  await page.getByTestId('steps-number').fill('2');

  // The negative prompt's placeholder reads as a hint, not as a value.
  const negative = page.getByTestId('negative-prompt');
  await expect(negative).toHaveAttribute('placeholder', /^Optional:/);
  expect(await negative.evaluate((el) => getComputedStyle(el, '::placeholder').fontStyle)).toBe('italic');

  // A refused request reads as a sentence; the field path is in the details.
  await page.getByTestId('prompt').fill('refused one');
  await page.getByLabel('Width', { exact: true }).fill('100');
  await page.getByTestId('generate').click();
  const err = page.locator('.submit-error [data-testid="error-panel"]');
  await expect(err.locator('.error-message')).toHaveText('Width must be a multiple of 8, not 100.');
  await err.getByText('Details').click();
  await expect(err.locator('details')).toContainText('generate#0.width');
  await err.locator('xpath=..').getByRole('button', { name: 'Dismiss' }).click();

  // Cancel a running job: its card keeps no progress bar, the viewer says what cancelling means.
  await page.getByLabel('Width', { exact: true }).fill('128');
  await page.getByLabel('Height', { exact: true }).fill('128');
  await page.getByTestId('frames-number').fill('16');
  await page.getByTestId('steps-number').fill('12');
  await page.getByTestId('prompt').fill('cancel me');
  await page.getByTestId('generate').click();
  const job = page.getByTestId('job').filter({ hasText: 'cancel me' });
  await expect(job).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  await job.getByTestId('job-cancel').click();
  await expect(job).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  await expect(job.getByRole('progressbar')).toHaveCount(0);
  await expect(page.getByTestId('viewer').getByRole('progressbar')).toHaveCount(0);
  await expect(page.getByTestId('viewer-reason')).toContainText('Cancelled');
  await screenshot(page, testInfo, 'ux-generate-cancelled-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('prompt: <lora:name:weight> is applied, tokens are counted per 75-token chunk, Ctrl+↑/↓ weights the selected words', async ({ page, app, consoleErrors }) => {
  await call(app, 'importFile', loraPath);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  const prompt = page.getByTestId('prompt');
  await prompt.fill('a cat');
  await expect(page.getByTestId('prompt-tokens')).toHaveText(/2\/75/);
  await prompt.fill(Array(80).fill('cat').join(' '));
  await expect(page.getByTestId('prompt-tokens')).toHaveText(/75\/75 · 5\/75 \(2 chunks\)/);

  // Ctrl+↑ on the word at the caret wraps it with a weight; again raises it; Ctrl+↓ twice takes it back off.
  await prompt.fill('a red fox');
  await prompt.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(3, 3));
  await prompt.press('Control+ArrowUp');
  await expect(prompt).toHaveValue('a (red:1.1) fox');
  await prompt.press('Control+ArrowUp');
  await expect(prompt).toHaveValue('a (red:1.2) fox');
  await prompt.press('Control+ArrowDown');
  await prompt.press('Control+ArrowDown');
  await expect(prompt).toHaveValue('a red fox');

  // A tag naming no library LoRA is refused with its name; a known one moves into the stack at its weight.
  await tiny(page);
  await prompt.fill(`${STARTER_LORA_TRIGGER} fox <lora:nowhere:1>`);
  await expect(page.getByTestId('prompt-notes')).toContainText('no LoRA named “nowhere”');
  await page.getByTestId('generate').click();
  await expect(page.locator('.submit-error .error-message')).toContainText('“nowhere”');
  await prompt.fill(`${STARTER_LORA_TRIGGER} fox <lora:ux-style:0.5>`);
  await expect(page.getByTestId('prompt-notes')).toContainText('applies ux-style at 0.5');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('job').filter({ hasText: `${STARTER_LORA_TRIGGER} fox` })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  const [rec] = (await call(app, 'listGenerations', { status: 'done', limit: 1 })).items;
  expect(rec.params.prompt).toBe(`${STARTER_LORA_TRIGGER} fox`);
  expect(rec.params.loras.map((l) => [l.name, l.weight])).toEqual([['ux-style', 0.5]]);
  expect(consoleErrors).toEqual([]);
});

test('engine options: clip skip, weighting, GroupNorm and the AnimateLCM LoRA reach the engine; the provider order is kept', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(app.url);
  await page.getByTestId('prompt').fill('engine options');
  await tiny(page);
  await page.getByTestId('advanced-options').locator('summary').click();
  await page.getByTestId('clip-skip-number').fill('2');
  await page.getByTestId('weighting').selectOption('comfy');
  await page.getByTestId('group-norm').selectOption('across_frames');
  const lcm = (await call(app, 'listLoras')).find((l) => l.name === 'ux-style');
  await page.getByTestId('lcm-lora').selectOption(lcm?.path ?? '');
  await page.getByTestId('lcm-lora-weight-number').fill('0.7');
  await page.getByTestId('provider-picker').selectOption('cpu');
  await expect(page.getByTestId('provider-order-hint')).toBeVisible();
  await screenshot(page, testInfo, 'ux-generate-engine-options-1920x1080');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('job').filter({ hasText: 'engine options' })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  const [rec] = (await call(app, 'listGenerations', { status: 'done', limit: 1 })).items;
  expect(rec.params).toMatchObject({ clipSkip: 2, weighting: 'comfy', motionGroupNorm: 'across_frames', lcmLora: { path: lcm?.path, weight: 0.7 } });
  expect(rec.params.providers[0]).toBe('cpu');
  expect(consoleErrors).toEqual([]);
});

test('history: a gallery with filters, the reason for every clip that is missing, library names, and two takes side by side', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(app.url);
  await goPlace(page, 'History');
  const cards = page.getByTestId('history-card');
  const all = (await call(app, 'listGenerations', {})).total;
  await expect(cards).toHaveCount(all);

  // The cancelled job says why it has no clip, with a readable badge.
  const cancelled = cards.and(page.locator('[data-status="cancelled"]')).first();
  await expect(cancelled.getByTestId('history-reason')).toContainText('Cancelled while');
  // Filters: LoRA (by library name), date, status.
  await page.getByTestId('history-lora-filter').selectOption({ label: 'ux-style' });
  const withLora = (await call(app, 'listGenerations', { lora: (await call(app, 'listLoras')).find((l) => l.name === 'ux-style')?.sha256 })).total;
  expect(withLora).toBeGreaterThan(0);
  await expect(cards).toHaveCount(withLora);
  await page.getByTestId('history-lora-filter').selectOption('');
  await page.getByTestId('history-date-filter').selectOption('1');
  await expect(cards).toHaveCount(all);
  await page.getByTestId('history-date-filter').selectOption('');

  // Details: library names for the LoRA, the motion module shown.
  const done = (await call(app, 'listGenerations', { status: 'done', lora: (await call(app, 'listLoras')).find((l) => l.name === 'ux-style')?.sha256 })).items;
  await page.locator(`[data-testid="history-card"][data-generation-id="${done[0].id}"] .history-thumb`).click();
  const details = page.getByTestId('history-details');
  await expect(details.getByTestId('history-loras')).toContainText('ux-style');
  await expect(details.getByTestId('history-motion')).toHaveText("The starter model's own");
  await expect(details.getByTestId('history-model')).toHaveText('Starter test model');

  // Two takes side by side.
  const [a, b] = (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items;
  await page.locator(`[data-testid="history-card"][data-generation-id="${a.id}"]`).getByTestId('history-compare').check();
  await page.locator(`[data-testid="history-card"][data-generation-id="${b.id}"]`).getByTestId('history-compare').check();
  const view = page.getByTestId('history-compare-view');
  await expect(view.getByTestId('compare-take')).toHaveCount(2);
  await expect(view.getByTestId('compare-differences')).toContainText('prompt');
  await screenshot(page, testInfo, 'ux-history-compare-1920x1080');
  expect(consoleErrors).toEqual([]);
});

test('timeline: ruler with zoom, scrubbing across clips with snapping, speed, split, undo/redo of every edit, several timelines', async ({ page, app, consoleErrors }, testInfo) => {
  const [a, b] = (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items;
  const t = await openTimelineWith(page, app, 'Edit me', [a.id, b.id]);
  const clips = page.getByTestId('clip');
  const frames = (c: typeof a) => c.outputs?.frameCount ?? 0;

  // Clips are as wide as they last: a's width / b's width = their durations' ratio; zoom scales both.
  const width = async (i: number) => (await clips.nth(i).boundingBox())?.width ?? 0;
  const ratio = frames(a) / a.params.fps / (frames(b) / b.params.fps);
  expect((await width(0)) / (await width(1))).toBeCloseTo(ratio, 1);
  // Opened fitted to the track; zoom from 160 to 320 px/s doubles the widths.
  await expect(page.getByTestId('zoom-fit')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('zoom').fill('160');
  const before = await width(0);
  await page.getByTestId('zoom').fill('320');
  await expect.poll(() => width(0)).toBeCloseTo(before * 2, -1);

  // Scrub on the ruler: clicking just past the second clip's start snaps to it (the playhead sits on its first frame).
  const ruler = await page.getByTestId('ruler').boundingBox();
  const second = await clips.nth(1).boundingBox();
  if (!ruler || !second) throw new Error('no ruler or clip box');
  await page.mouse.click(second.x + 5, ruler.y + ruler.height / 2);
  await expect(page.getByTestId('viewer-frame')).toHaveAttribute('alt', `Frame ${frames(a) + 1} of ${frames(a) + frames(b)}`);
  // Dragging along the ruler moves the playhead across the clip boundary.
  await page.mouse.move(second.x - 40, ruler.y + 10);
  await page.mouse.down();
  await page.mouse.move(second.x + 60, ruler.y + 10, { steps: 5 });
  await page.mouse.up();
  const playhead = await page.getByTestId('playhead').boundingBox();
  expect(playhead?.x ?? 0).toBeGreaterThan(second.x);

  // Speed 2× halves the second clip's width.
  await clips.nth(1).focus();
  const w1 = await width(1);
  await page.getByTestId('clip-speed').selectOption('2');
  await expect(clips.nth(1)).toHaveAttribute('data-speed', '2');
  await expect.poll(() => width(1)).toBeCloseTo(w1 / 2, -1);

  // Split at the playhead: three clips, the cut where the playhead was.
  await page.getByTestId('scrubber').fill(String(frames(a) + 3));
  await page.getByTestId('split').click();
  await expect(clips).toHaveCount(3);
  await expect(clips.nth(1)).toHaveAttribute('data-out', '3');
  await expect(clips.nth(2)).toHaveAttribute('data-in', '3');
  await screenshot(page, testInfo, 'ux-timeline-edited-1280x720');

  // Undo the split, then the speed; redo the speed. The stored timeline follows each step.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await expect(clips).toHaveCount(2);
  await page.keyboard.press('Control+z');
  await expect(clips.nth(1)).toHaveAttribute('data-speed', '1');
  expect((await call(app, 'getTimeline', t.id)).clips.map((c) => [c.generationId, c.inFrame, c.outFrame, c.speed])).toEqual([
    [a.id, 0, frames(a), 1],
    [b.id, 0, frames(b), 1],
  ]);
  await page.keyboard.press('Control+Shift+z');
  await expect(clips.nth(1)).toHaveAttribute('data-speed', '2');
  // Remove, then undo brings the clip back (re-added from its generation) in its place.
  await clips.nth(0).focus();
  await page.getByRole('button', { name: 'Remove clip 1' }).click();
  await expect(clips).toHaveCount(1);
  await page.keyboard.press('Control+z');
  await expect(clips).toHaveCount(2);
  await expect(clips.nth(0)).toHaveAttribute('data-generation-id', String(a.id));

  // Several timelines: a new one is empty and opens; the picker goes back.
  await page.getByTestId('timeline-new').click();
  await expect(page.getByRole('note')).toContainText('No clips yet');
  await page.getByTestId('timeline-picker').selectOption(String(t.id));
  await expect(clips).toHaveCount(2);
  expect(consoleErrors).toEqual([]);
});

test('timeline: a crossfade between two clips shows in the viewer and the exported file is shorter by the overlap', async ({ page, app, consoleErrors }, testInfo) => {
  const small = (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items.filter((r) => r.params.width === 64 && r.params.frames === 8 && r.params.fps === 8);
  expect(small.length).toBeGreaterThanOrEqual(2);
  await openTimelineWith(page, app, 'Fades', [small[0].id, small[1].id]);
  const clips = page.getByTestId('clip');
  await clips.nth(1).focus();
  await page.getByTestId('clip-crossfade').selectOption('0.25');
  await expect(clips.nth(1)).toHaveAttribute('data-crossfade', '0.25');
  // 16 frames at 8 fps overlapped by 2: 14 frames, 1.75 s.
  await expect(page.getByTestId('timecode')).toHaveText(/\/ 0:01\.75$/);
  await page.getByTestId('scrubber').fill('7');
  await expect(page.getByTestId('viewer-overlay')).toBeVisible();
  await screenshot(page, testInfo, 'ux-timeline-crossfade-1280x720');

  const { dialog, out } = await exportMp4ViaDialog(page);
  // "Done" sits beside a full bar, at once (no bar still sliding up from where it was).
  const bar = dialog.getByRole('progressbar');
  await expect(bar).toHaveAttribute('aria-valuenow', '100');
  expect(await bar.evaluate((el) => (el.firstElementChild as HTMLElement).getBoundingClientRect().width / el.getBoundingClientRect().width)).toBe(1);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  // Ctrl+E opens the export dialog again.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+e');
  await expect(page.getByTestId('export-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  expect(Number(probeVideo(out).nb_read_frames)).toBe(14);
  expect(consoleErrors).toEqual([]);
});

test('every place at 1280×720, 1920×1080 and 2560×1440: photographed, no sideways scrolling, dark by default with a light theme, shortcuts listed on ?', async ({ page, app, consoleErrors }, testInfo) => {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.goto(app.url);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    for (const place of PLACES) {
      await goPlace(page, place);
      const sideways = await page.evaluate(() => {
        const m = document.getElementById('main');
        return Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, m ? m.scrollWidth - m.clientWidth : 0);
      });
      expect(sideways, `${place} at ${size.width}×${size.height} scrolls sideways by ${sideways}px`).toBeLessThanOrEqual(0);
      if (place === 'Generate') expect(await inView(page, 'generate'), 'the Generate button is in view').toBe(true);
      await screenshot(page, testInfo, `place-${place.toLowerCase()}-${size.width}x${size.height}`);
    }
  }
  // Light theme, kept across a reload.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByTestId('theme-toggle').click();
  await page.reload();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  await goPlace(page, 'Generate');
  await screenshot(page, testInfo, 'place-generate-light-1280x720');
  await page.getByTestId('theme-toggle').click();

  // Shortcuts: Alt+2 goes to Library, ? lists them all, Esc closes.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Alt+2');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Library');
  await page.keyboard.press('?');
  const help = page.getByTestId('shortcuts-help');
  await expect(help).toBeVisible();
  await expect(help).toContainText('Ctrl+Enter');
  await expect(help).toContainText('Ctrl+↑ / Ctrl+↓');
  await screenshot(page, testInfo, 'shortcuts-1280x720');
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
  // '/' jumps to the search box.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  await expect(page.getByTestId('library-search')).toBeFocused();
  // History: F favourites the open clip, as its button does.
  await goPlace(page, 'History');
  const card = page.getByTestId('history-card').and(page.locator('[data-status="done"]')).first();
  await card.locator('.history-thumb').click();
  const fav = page.getByTestId('history-favourite');
  const was = await fav.getAttribute('aria-pressed');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('f');
  await expect(fav).toHaveAttribute('aria-pressed', was === 'true' ? 'false' : 'true');

  // Every control in every place has a name a screen reader can say.
  for (const place of PLACES) {
    await goPlace(page, place);
    if (place === 'Generate') await page.getByTestId('advanced-options').locator('summary').click();
    if (place === 'Timeline') await page.getByTestId('clip').first().focus();
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll('#main input, #main select, #main textarea, #main button, #main [role="slider"]'))
        .filter((el) => {
          const e = el as HTMLInputElement;
          if (e.type === 'hidden' || e.hidden) return false; // not rendered, so not announced
          const labelled = (e.labels?.length ?? 0) > 0 || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && (e.textContent ?? '').trim());
          return !labelled;
        })
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(unnamed, place).toEqual([]);
  }
  expect(consoleErrors).toEqual([]);
});
