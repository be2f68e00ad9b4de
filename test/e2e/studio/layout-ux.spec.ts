/**
 * Layout as a creator coming from A1111/ComfyUI sees it at 1280×720 and 1920×1080, asserted on geometry rather
 * than on pixels: what must be seen without scrolling is inside its scroll area, nothing is cut off at a card's or
 * strip's edge, and text that carries a reason (why a provider did not start) is shown whole. Screenshots under
 * test-results/screenshots/ (layout-*).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { PROVIDER_LABELS } from '../../../src/renderer/places/generate/provider-labels';
import { selectShowsWhole } from './select-fit';
import { writeStarterLora } from './starter-lora';
import { call, expect, screenshot, test } from './studio-fixture';

test.describe.configure({ mode: 'serial' });
test.use({ backend: 'layout-ux' });
test.setTimeout(150_000);

type Box = { x: number; y: number; width: number; height: number };

async function box(l: Locator): Promise<Box> {
  const b = await l.boundingBox();
  if (!b) throw new Error('not laid out');
  return b;
}

/** `inner` lies entirely inside `outer` (1 px of rounding allowed). */
function inside(inner: Box, outer: Box): boolean {
  return inner.x >= outer.x - 1 && inner.y >= outer.y - 1 && inner.x + inner.width <= outer.x + outer.width + 1 && inner.y + inner.height <= outer.y + outer.height + 1;
}

/** The part of a scroll container that shows its content (its box less borders and scrollbars). */
async function scrollport(l: Locator): Promise<Box> {
  return l.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    const left = r.x + parseFloat(s.borderLeftWidth);
    const top = r.y + parseFloat(s.borderTopWidth);
    return { x: left, y: top, width: el.clientWidth, height: el.clientHeight };
  });
}

/** Text shown whole: neither cut by an ellipsis nor clipped below. */
async function shownWhole(l: Locator): Promise<boolean> {
  return l.evaluate((el) => el.scrollWidth <= el.clientWidth + 1 && el.scrollHeight <= el.clientHeight + 1);
}

async function goPlace(page: Page, place: string) {
  await page.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: place }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(place);
}

async function tinyJob(page: Page, prompt: string, { size = 64, frames = 8, steps = 2 } = {}) {
  await page.getByTestId('prompt').fill(prompt);
  await page.getByLabel('Width', { exact: true }).fill(String(size));
  await page.getByLabel('Height', { exact: true }).fill(String(size));
  await page.getByTestId('frames-number').fill(String(frames));
  await page.getByTestId('steps-number').fill(String(steps));
  await page.getByTestId('guidance-number').fill('1');
  await page.getByTestId('generate').click();
}

/** At least `n` finished clips in History (tiny jobs named `<prompt> 1…n` queued for the ones missing). */
async function ensureDoneClips(page: Page, app: Parameters<typeof call>[0], n: number, prompt: string) {
  for (let i = (await call(app, 'listGenerations', { status: 'done' })).total; i < n; i++) {
    await tinyJob(page, `${prompt} ${i + 1}`);
    await expect(page.getByTestId('job').filter({ hasText: `${prompt} ${i + 1}` })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  }
}

/** Every queue card is either wholly inside the strip's visible part or wholly outside it (none cut at an edge). */
async function cardsCut(page: Page): Promise<string[]> {
  const strip = await scrollport(page.locator('.job-list'));
  const cards = page.getByTestId('job');
  const cut: string[] = [];
  for (let i = 0; i < (await cards.count()); i++) {
    const c = await box(cards.nth(i));
    const outside = c.x + c.width <= strip.x + 1 || c.x >= strip.x + strip.width - 1 || c.y + c.height <= strip.y + 1 || c.y >= strip.y + strip.height - 1;
    if (!outside && !inside(c, strip)) cut.push(`card ${i + 1}: ${JSON.stringify(c)} in a strip ${JSON.stringify(strip)}`);
  }
  return cut;
}

// First in the file, so it meets the backend before any clip is made.
test('History with no clips says so and offers Generate; with filters that match nothing, offers to clear them', async ({ page, app, consoleErrors }, testInfo) => {
  expect((await call(app, 'listGenerations', {})).total, 'this test needs a backend with no clips').toBe(0);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'History');
  const empty = page.locator('.history-layout .empty-state');
  await expect.soft(empty).toContainText('No clips yet', { timeout: 5000 });
  await screenshot(page, testInfo, 'layout-history-empty-1280x720');
  await page.getByTestId('history-search').fill('no such fox');
  await expect.soft(empty).toContainText('No clips match these filters');
  const clear = empty.getByRole('button', { name: 'Clear filters' });
  await expect.soft(clear).toBeVisible({ timeout: 2000 });
  if ((await clear.count()) > 0) {
    await clear.click();
    await expect.soft(page.getByTestId('history-search')).toHaveValue('');
    await expect.soft(empty).toContainText('No clips yet');
  }
  const open = empty.getByRole('button', { name: 'Open Generate' });
  await expect.soft(open).toBeVisible({ timeout: 2000 });
  if ((await open.count()) > 0) {
    await open.click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  }
  expect(consoleErrors).toEqual([]);
});

test('Generate at 1280×720: the model and motion pickers and both prompts are in view without scrolling the form', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  const form = await scrollport(page.locator('#generate-form'));
  for (const id of ['model-picker', 'motion-picker', 'prompt', 'negative-prompt']) {
    expect.soft(inside(await box(page.getByTestId(id)), form), `${id} is below the fold of the form`).toBe(true);
  }
  // Each picker's label sits right above it, so the two are read together.
  for (const id of ['model-picker', 'motion-picker']) {
    const picker = page.getByTestId(id);
    const label = page.locator(`label[for="${await picker.getAttribute('id')}"]`);
    const [l, p] = [await box(label), await box(picker)];
    expect.soft(p.y - (l.y + l.height), `${id}'s label is not right above it`).toBeLessThan(12);
  }
  expect.soft(inside(await box(page.getByTestId('generate')), { x: 0, y: 0, width: 1280, height: 720 })).toBe(true);
  // What changes take after take (seed, steps, guidance, frames, size) comes before the optional extras.
  const extras = Math.min((await box(page.getByTestId('extra-files'))).y, (await box(page.locator('.generate-form fieldset', { hasText: 'ControlNet' }).first())).y);
  for (const id of ['seed-input', 'steps-number', 'guidance-number', 'frames-number', 'size-preset']) {
    expect.soft((await box(page.getByTestId(id))).y, `${id} is below the embeddings or ControlNet`).toBeLessThan(extras);
  }
  // "Start from": the file button and the drop hint on one line, in a box no taller than it needs.
  const [pick, hint] = [await box(page.getByTestId('input-pick')), await box(page.locator('.input-drop-hint'))];
  expect.soft(Math.abs(pick.y + pick.height / 2 - (hint.y + hint.height / 2)), 'the drop hint is not beside the button').toBeLessThan(8);
  expect.soft((await box(page.getByTestId('input-media'))).height, 'Start from is taller than its two lines need').toBeLessThan(130);
  // Keyboard order follows the page: the pickers, then the prompts.
  await page.getByTestId('model-picker').focus();
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('motion-picker')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('prompt')).toBeFocused();
  await screenshot(page, testInfo, 'layout-generate-1280x720');
  // Each slider's number box is on its label's line, and the two columns' sliders line up.
  const rangeY: number[] = [];
  for (const id of ['steps', 'guidance', 'frames', 'fps']) {
    const range = page.getByTestId(id);
    const label = page.locator(`label[for="${await range.getAttribute('id')}"]`);
    const [l, n] = [await box(label), await box(page.getByTestId(`${id}-number`))];
    expect.soft(Math.abs(l.y + l.height / 2 - (n.y + n.height / 2)), `${id}: the number is not on its label's line`).toBeLessThan(6);
    expect.soft(l.height, `${id}: the label wraps`).toBeLessThan(24);
    rangeY.push(Math.round((await box(range)).y));
  }
  expect.soft([rangeY[0], rangeY[2]], 'the sliders of a row do not line up').toEqual([rangeY[1], rangeY[3]]);
  // The size preset shows its whole name (the longest one chosen), its width and height fields beside each other.
  const size = page.getByTestId('size-preset');
  await size.selectOption({ label: 'Landscape 768×512' });
  expect.soft(await selectShowsWhole(size), 'the size preset is cut').toBe(true);
  const [w, h] = [await box(page.getByLabel('Width', { exact: true })), await box(page.getByLabel('Height', { exact: true }))];
  expect.soft(Math.abs(w.y - h.y), 'width and height are not side by side').toBeLessThan(2);
  await page.getByTestId('input-media').scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'layout-generate-scrolled-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('Generate at 1280×720 and 1920×1080: the chosen model is named whole, what the starter is said on its own line; the LoRA picker reads whole', async ({ page, app, consoleErrors }, testInfo) => {
  await page.goto(app.url);
  const picker = page.getByTestId('model-picker');
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    expect.soft(await selectShowsWhole(picker), `the model picker cuts its name at ${size.width}×${size.height}`).toBe(true);
    await expect.soft(picker.locator('option:checked')).toHaveText('Starter test model', { timeout: 1000 });
    // Random weights make abstract colours: said under the picker, whole and in view, not cut off inside it.
    const note = page.getByTestId('model-note');
    await expect(note).toContainText('random weights');
    expect.soft(await shownWhole(note), `the starter's note is cut at ${size.width}×${size.height}`).toBe(true);
    expect.soft(inside(await box(note), await scrollport(page.locator('#generate-form'))), `the starter's note is below the fold at ${size.width}×${size.height}`).toBe(true);
    // “Add from library” says what it offers (here: that the library has no LoRAs yet) whole, not “…no LoR…”.
    expect.soft(await selectShowsWhole(page.getByTestId('lora-add')), `the LoRA picker is cut at ${size.width}×${size.height}`).toBe(true);
    await screenshot(page, testInfo, `layout-generate-model-${size.width}x${size.height}`);
  }
  await page.getByTestId('lora-add').scrollIntoViewIfNeeded();
  await screenshot(page, testInfo, 'layout-generate-lora-add-1920x1080');
  expect(consoleErrors).toEqual([]);
});

test('queue at 1280×720 and 1920×1080: whole cards only, titles readable, Cancel and "In History" inside their card', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  const prompts = ['a red fox in the snow', 'a blue fox at dusk', 'a green fox in rain', 'a grey fox at dawn'];
  for (const p of prompts) {
    await tinyJob(page, p);
    await expect(page.getByTestId('job').filter({ hasText: p })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  }
  // A running job (notes arrive while it runs) keeps its Cancel button inside the card.
  await tinyJob(page, 'a slow fox', { size: 256, frames: 16, steps: 20 });
  const slow = page.getByTestId('job').filter({ hasText: 'a slow fox' });
  await expect(slow).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  await expect(slow.getByTestId('job-status')).toContainText('Sampling', { timeout: 60_000 });
  expect.soft(inside(await box(slow.getByTestId('job-cancel')), await box(slow)), 'Cancel is cut off by its card').toBe(true);
  // The card's compact progress is read whole beside Cancel, the step count included (it was cut to “step 1 of …”).
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    const status = slow.getByTestId('job-status');
    await expect.soft(status, `the running card's step count at ${size.width}×${size.height}`).toContainText(/\b\d+\D+20\b/);
    expect.soft(await shownWhole(status), `the running card's progress “${await status.textContent()}” is cut at ${size.width}×${size.height}`).toBe(true);
  }
  await page.setViewportSize({ width: 1280, height: 720 });
  // The newest job is first in the strip and in view: adding a job never scrolls it away.
  expect.soft(inside(await box(slow), await scrollport(page.locator('.job-list'))), 'the running job is not in view').toBe(true);
  // Its progress is said twice, not three times: large in the viewer (where the creator looks) and compact on its
  // card. Read in one go, so a step arriving between two reads cannot change the texts.
  const saidAt = await page.evaluate(() => {
    const where = (el: Element) => (el.closest('[data-testid="viewer"]') ? 'viewer' : el.closest('[data-testid="job"]') ? `card ${el.closest('[data-testid="job"]')?.getAttribute('data-status')}` : `elsewhere (${el.className || el.tagName})`);
    const bars = Array.from(document.querySelectorAll('#main [role="progressbar"]')).map(where);
    const texts = Array.from(document.querySelectorAll('#main *'))
      .filter((el) => Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && /^Sampling/.test(n.textContent ?? '')))
      .map(where);
    return { bars: bars.filter((w) => w !== 'card done').sort(), texts: texts.sort() };
  });
  expect.soft(saidAt, 'where the running job’s progress is shown').toEqual({ bars: ['card running', 'viewer'], texts: ['card running', 'viewer'] });
  await screenshot(page, testInfo, 'layout-queue-running-1280x720');
  const stage = await box(page.locator('.gen-viewer-stage'));
  await slow.getByTestId('job-cancel').click();
  // Until the current step ends, the card says it is stopping, whole beside “Cancelling…” (read at once: a step
  // lasts most of a second).
  const stopping = await slow.getByTestId('job-status').evaluate((el) => ({ text: el.textContent ?? '', whole: el.scrollWidth <= el.clientWidth + 1 }));
  expect.soft(stopping, 'the card while it stops').toEqual({ text: expect.stringMatching(/^Stopping/), whole: true });
  await expect(slow).toHaveAttribute('data-status', 'cancelled', { timeout: 30_000 });
  // The viewer says why once, on the bar's line beside "Previous take", and the picture keeps its size.
  const reason = page.getByTestId('viewer-reason');
  await expect(reason).toHaveText('Cancelled before it finished; nothing was kept.');
  await expect(page.getByTestId('viewer-status')).toHaveCount(0);
  const [r, compare] = [await box(reason), await box(page.getByTestId('viewer-compare'))];
  expect.soft(Math.abs(r.y + r.height / 2 - (compare.y + compare.height / 2)), 'the reason is not on the bar’s line').toBeLessThan(14);
  expect.soft((await box(page.locator('.gen-viewer-stage'))).height, 'the picture shrank').toBeCloseTo(stage.height, 0);
  // What the viewer still shows is the last sampling preview, not a clip: dimmed, and a tag on it says so.
  await expect.soft(page.getByTestId('viewer-stale')).toHaveText('Last preview, not kept');
  const opacity = await page.getByTestId('viewer-preview').evaluate((el) => {
    let o = 1;
    for (let a: Element | null = el; a; a = a.parentElement) o *= Number(getComputedStyle(a).opacity);
    return o;
  });
  expect.soft(opacity, 'the cancelled job’s last preview is shown as brightly as a clip').toBeLessThan(0.7);
  await screenshot(page, testInfo, 'layout-viewer-cancelled-1280x720');

  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    await page.locator('.job-list').evaluate((el) => el.scrollTo(0, 0));
    expect.soft(await cardsCut(page), `cards cut at ${size.width}×${size.height}`).toEqual([]);
    const cards = page.getByTestId('job');
    for (let i = 0; i < (await cards.count()); i++) {
      const card = cards.nth(i);
      if (!inside(await box(card), await scrollport(page.locator('.job-list')))) continue;
      const title = card.locator('.job-prompt');
      expect.soft(await shownWhole(title), `“${await title.textContent()}” is cut at ${size.width}×${size.height}`).toBe(true);
      // The seed is what creators copy and re-roll: the element that says it shows it whole, and it can be selected.
      const seed = await card.evaluate((el) => {
        const holders = Array.from(el.querySelectorAll('*')).filter((e) => /seed \d+/.test(e.textContent ?? ''));
        const own = holders.find((e) => !holders.some((o) => o !== e && e.contains(o)));
        if (!own) return null;
        const h = own as HTMLElement;
        return { text: (h.textContent ?? '').match(/seed (\d+)/)?.[1], whole: h.scrollWidth <= h.clientWidth + 1, selectable: getComputedStyle(h).userSelect !== 'none' };
      });
      expect.soft(seed, `the seed on card ${i + 1} at ${size.width}×${size.height}`).toEqual({ text: expect.stringMatching(/^\d+$/), whole: true, selectable: true });
      const history = card.getByRole('button', { name: 'In History' });
      if ((await history.count()) > 0) expect.soft(inside(await box(history), await box(card)), '“In History” is cut off by its card').toBe(true);
      // The status is still said on the card, in words.
      await expect(card.locator('.status-badge')).toBeVisible();
    }
    await screenshot(page, testInfo, `layout-queue-${size.width}x${size.height}`);
  }
  expect(consoleErrors).toEqual([]);
});

test('History at 1280×720: a gallery of at least four clips a row, the first row whole in view, details not cut', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  // Enough clips for two rows, when this test runs on its own.
  for (let i = (await call(app, 'listGenerations', {})).total; i < 6; i++) {
    await tinyJob(page, `history fox ${i + 1}`);
    await expect(page.getByTestId('job').filter({ hasText: `history fox ${i + 1}` })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  }
  await goPlace(page, 'History');
  const cards = page.getByTestId('history-card');
  await expect(cards).toHaveCount((await call(app, 'listGenerations', {})).total);
  const tops = await cards.evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
  const perRow = tops.filter((t) => t === tops[0]).length;
  expect.soft(perRow, 'clips in the first row').toBeGreaterThanOrEqual(4);
  const main = await scrollport(page.locator('#main'));
  for (let i = 0; i < perRow; i++) expect.soft(inside(await box(cards.nth(i)), main), `card ${i + 1} of the first row is not whole in view`).toBe(true);
  // Seed, steps and frames are read, not guessed from an ellipsis.
  const meta = cards.first().locator('.history-meta');
  expect.soft(await shownWhole(meta), 'the first card’s details are cut').toBe(true);
  await screenshot(page, testInfo, 'layout-history-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('Settings: why a provider did not start is shown whole; Library filters on one row; the shortcut list fits 1280×720', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'Settings');
  const statuses = page.getByTestId('provider-order').locator('.provider-status');
  await expect(statuses.first()).toBeVisible();
  for (let i = 0; i < (await statuses.count()); i++) {
    const s = statuses.nth(i);
    expect.soft(await shownWhole(s), `cut: ${await s.textContent()}`).toBe(true);
  }
  // Each row's move buttons stay on the row's first line, right-aligned, whatever the reason's length.
  const rows = page.getByTestId('provider-order').locator('li');
  const xs = new Set<number>();
  for (let i = 0; i < (await rows.count()); i++) {
    const down = rows.nth(i).getByRole('button', { name: /down$/ });
    if ((await down.count()) > 0) xs.add(Math.round((await box(down)).x));
  }
  expect.soft(xs.size, 'the move buttons line up').toBe(1);
  // The list starts at the fieldset's text edge, not indented past the line above it.
  const hint = await box(page.getByTestId('provider-order').locator('xpath=preceding-sibling::p[1]'));
  for (let i = 0; i < (await rows.count()); i++) {
    expect.soft((await box(rows.nth(i).locator('label'))).x - hint.x, `row ${i + 1} is indented past the text above it`).toBeLessThan(2);
  }
  await screenshot(page, testInfo, 'layout-settings-1280x720');

  await goPlace(page, 'Library');
  const controls = [page.getByTestId('library-search'), page.locator('.library-toolbar select').first(), page.locator('.library-toolbar select').last(), page.locator('.library-toolbar').getByLabel('Favourites')];
  const rowsOf = new Set<number>();
  for (const c of controls) {
    const b = await box(c);
    rowsOf.add(Math.round((b.y + b.height / 2) / 10));
  }
  expect.soft(rowsOf.size, 'the search and filters share one row').toBe(1);
  await screenshot(page, testInfo, 'layout-library-1280x720');
  // The search says what it searches, whole, at both sizes (its placeholder was cut to “…tag” at 1920×1080).
  for (const size of [
    { width: 1920, height: 1080 },
    { width: 1280, height: 720 },
  ]) {
    await page.setViewportSize(size);
    const fits = await page.getByTestId('library-search').evaluate((el: HTMLInputElement) => {
      const probe = document.createElement('span');
      probe.style.font = getComputedStyle(el).font;
      probe.style.position = 'absolute';
      probe.style.whiteSpace = 'pre';
      probe.textContent = el.placeholder;
      document.body.append(probe);
      const w = probe.getBoundingClientRect().width;
      probe.remove();
      const s = getComputedStyle(el);
      // Text, the padding and the room Chromium keeps for the search's clear button (about 20 px) even when empty.
      return w + parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) + 20 <= el.clientWidth;
    });
    expect.soft(fits, `the library search's placeholder is cut at ${size.width}×${size.height}`).toBe(true);
  }

  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('?');
  const help = page.getByTestId('shortcuts-help');
  await expect(help).toBeVisible();
  expect.soft(await shownWhole(help), 'the shortcut list needs scrolling').toBe(true);
  await screenshot(page, testInfo, 'layout-shortcuts-1280x720');
  await page.keyboard.press('Escape');
  expect(consoleErrors).toEqual([]);
});

test('Settings: a provider that did not start says why in one sentence, whole at 1280×720 and 1920×1080, with onnxruntime’s message behind Details', async ({ page, app, consoleErrors }, testInfo) => {
  // Here CUDA's libraries are not installed (and WebGPU has no driver unless VK_ICD_FILENAMES names one).
  const failed = (await call(app, 'getEngineInfo')).providers.filter((p) => !p.usable && p.detail !== undefined);
  expect(failed.length, 'no provider failed to start on this machine').toBeGreaterThan(0);
  await page.goto(app.url);
  await goPlace(page, 'Settings');
  const rowOf = (name: keyof typeof PROVIDER_LABELS) => page.getByTestId('provider-order').locator('li').filter({ has: page.locator('label', { hasText: new RegExp(`^${PROVIDER_LABELS[name]}$`) }) });
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    const main = await scrollport(page.locator('#main'));
    for (const p of failed) {
      const row = rowOf(p.name);
      const reason = row.locator('.provider-reason');
      await expect(reason).toHaveText(p.reason ?? '');
      // A sentence, not onnxruntime's C++ source location; shown whole, not as a tooltip.
      expect.soft(p.reason, `${p.name}: the reason is onnxruntime's raw text`).not.toMatch(/onnxruntime_src|\.cc:\d|::|adapter_result/);
      expect.soft(await shownWhole(reason), `${p.name}: the reason is cut at ${size.width}×${size.height}`).toBe(true);
      expect.soft(inside(await box(reason), main), `${p.name}: the reason runs out of view at ${size.width}×${size.height}`).toBe(true);
      expect.soft(await row.getByTestId('provider-status').getAttribute('title'), `${p.name}: the reason is a tooltip`).toBeNull();
      // onnxruntime's whole message, uncut and selectable, one click away.
      const details = row.getByTestId('provider-detail');
      const pre = details.locator('pre');
      await expect(pre).toBeHidden();
      await details.getByText('Details', { exact: true }).click();
      await expect(pre).toBeVisible();
      expect.soft(await pre.evaluate((el) => el.textContent), `${p.name}: the details are not onnxruntime's whole message`).toBe(p.detail);
      expect.soft(await shownWhole(pre), `${p.name}: the details are cut at ${size.width}×${size.height}`).toBe(true);
      const b = await box(pre);
      expect.soft(b.x >= main.x - 1 && b.x + b.width <= main.x + main.width + 1, `${p.name}: the details run out sideways at ${size.width}×${size.height}`).toBe(true);
    }
    await screenshot(page, testInfo, `layout-settings-reasons-${size.width}x${size.height}`);
    // Folded again for the next size.
    for (const p of failed) await rowOf(p.name).getByTestId('provider-detail').getByText('Details', { exact: true }).click();
  }
  expect(consoleErrors).toEqual([]);
});

test('Timeline at 1280×720, fitted: every ruler label is inside the track, nothing to scroll sideways', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await ensureDoneClips(page, app, 2, 'timeline fox');
  const [a, b] = (await call(app, 'listGenerations', { status: 'done', order: 'oldest' })).items;
  const t = await call(app, 'createTimeline', 'Ruler');
  for (const g of [a, b]) await call(app, 'addClip', t.id, g.id);
  // The second clip trimmed to 6 of its 8 frames: 1.75 s in all, so the last label is a wide one (“1.75s”).
  const second = (await call(app, 'getTimeline', t.id)).clips[1];
  await call(app, 'trimClip', second.id, 0, second.outFrame - 2);
  await goPlace(page, 'Timeline');
  await page.getByTestId('timeline-picker').selectOption(String(t.id));
  await expect(page.getByTestId('clip')).toHaveCount(2);
  await expect(page.getByTestId('zoom-fit')).toHaveAttribute('aria-pressed', 'true');
  const scroller = page.locator('.track-scroll');
  const view = await scrollport(scroller);
  const ticks = page.locator('.tick');
  expect(await ticks.count()).toBeGreaterThan(2);
  for (let i = 0; i < (await ticks.count()); i++) {
    const tick = ticks.nth(i);
    expect.soft(inside(await box(tick), { ...view, y: -1e6, height: 2e6 }), `ruler label ${await tick.textContent()} is cut at the track's edge`).toBe(true);
  }
  expect.soft(await scroller.evaluate((el) => el.scrollWidth - el.clientWidth), 'the fitted track scrolls sideways').toBeLessThanOrEqual(0);
  // The viewer, the track and the line that says how to edit with the keyboard all fit the window.
  const main = await scrollport(page.locator('#main'));
  for (const l of [page.getByTestId('track'), page.locator('#clip-keys')]) expect.soft(inside(await box(l), main), 'below the fold at 1280×720').toBe(true);
  await screenshot(page, testInfo, 'layout-timeline-1280x720');
  // A clip chosen to edit: its speed, crossfade and remove are in view without scrolling, right under the track.
  await page.getByTestId('clip').nth(1).focus();
  const bar = page.getByTestId('clip-bar');
  for (const l of [bar.getByTestId('clip-speed'), bar.getByTestId('clip-crossfade'), bar.getByRole('button', { name: /^Remove clip/ })]) {
    expect.soft(inside(await box(l), main), 'a clip control is below the fold at 1280×720').toBe(true);
  }
  // The line that says how to edit with the keyboard stays whole in view while a clip is chosen, too.
  expect.soft(inside(await box(page.locator('#clip-keys')), main), 'the keyboard line is cut at the fold with a clip chosen').toBe(true);
  await screenshot(page, testInfo, 'layout-timeline-clip-1280x720');
  // Fitted on a wide window, a short timeline spans the track (it stopped at the zoom's old 800 px/s cap).
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.getByTestId('zoom-fit').click();
  const track = await scrollport(scroller);
  const clips = page.getByTestId('clip');
  const last = await box(clips.last());
  expect.soft((last.x + last.width - track.x) / track.width, 'the fitted clips leave the track part empty').toBeGreaterThan(0.95);
  await screenshot(page, testInfo, 'layout-timeline-1920x1080');
  expect(consoleErrors).toEqual([]);
});

/** The " · "-separated details of a text with a number (seed 123, 2 steps, the date) that a line break cuts in two. */
async function splitDetails(l: Locator): Promise<string[]> {
  return l.evaluate((el) => {
    const nodes: { node: Text; at: number }[] = [];
    let text = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      nodes.push({ node: n as Text, at: text.length });
      text += n.textContent ?? '';
    }
    const point = (i: number): [Text, number] => {
      const hit = [...nodes].reverse().find((n) => n.at <= i) ?? nodes[0];
      return [hit.node, i - hit.at];
    };
    // Each detail's [start, end) in the text, the separators (any space around the dot) left out.
    const parts: [number, number][] = [];
    let from = 0;
    for (const m of text.matchAll(/\s·\s/g)) {
      parts.push([from, m.index]);
      from = m.index + m[0].length;
    }
    parts.push([from, text.length]);
    const cut: string[] = [];
    for (const [start, end] of parts) {
      const range = document.createRange();
      range.setStart(...point(start));
      range.setEnd(...point(end));
      const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      // Only the details with numbers: a long model name may wrap where it must.
      const part = text.slice(start, end);
      if (/\d/.test(part) && lines.size > 1) cut.push(part);
    }
    return cut;
  });
}

test('History with a clip open: at 1280×720 three clips a row beside the details; no card detail (seed, steps, date) broken over two lines', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await ensureDoneClips(page, app, 6, 'open fox');
  await goPlace(page, 'History');
  const cards = page.getByTestId('history-card');
  await cards.and(page.locator('[data-status="done"]')).first().locator('.history-thumb').click();
  await expect(page.getByTestId('history-details')).toBeVisible();
  for (const size of [
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    await page.setViewportSize(size);
    const tops = await cards.evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
    const perRow = tops.filter((t) => t === tops[0]).length;
    if (size.width === 1280) expect.soft(perRow, 'clips a row beside the details at 1280×720').toBeGreaterThanOrEqual(3);
    for (let i = 0; i < (await cards.count()); i++) {
      expect.soft(await splitDetails(cards.nth(i).locator('.history-meta').first()), `card ${i + 1}'s details at ${size.width}×${size.height}`).toEqual([]);
    }
    await screenshot(page, testInfo, `layout-history-open-${size.width}x${size.height}`);
  }
  expect(consoleErrors).toEqual([]);
});

/**
 * Tab through the page from the body; for each control reached, the ancestors that cut its focus ring (outline
 * width + offset): any clipping box on the sides, a scrolling one only on its sides (focus scrolls it into view
 * vertically, flush with the edge).
 */
async function clippedFocusRings(page: Page, presses: number): Promise<string[]> {
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  const cut: string[] = [];
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const found = await page.evaluate(() => {
      const focused = document.activeElement as HTMLElement | null;
      if (!focused || focused === document.body || !focused.matches(':focus-visible')) return null;
      // The ring is the focused control's own, or a wrapper's that draws it on :focus-within (the prompt editor).
      let el: HTMLElement | null = focused;
      while (el && getComputedStyle(el).outlineStyle === 'none') el = el.parentElement;
      if (!el || el === document.body) return `${focused.outerHTML.slice(0, 80)}: no focus ring`;
      const s = getComputedStyle(el);
      const ring = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
      const r = el.getBoundingClientRect();
      for (let a = el.parentElement; a; a = a.parentElement) {
        const as = getComputedStyle(a);
        if (as.overflowX === 'visible' && as.overflowY === 'visible') continue;
        const scrolls = ['auto', 'scroll'].includes(as.overflowX) || ['auto', 'scroll'].includes(as.overflowY);
        const margin = as.overflowX === 'clip' ? parseFloat(as.getPropertyValue('overflow-clip-margin')) || 0 : 0;
        const b = a.getBoundingClientRect();
        const left = r.left - ring < b.left + a.clientLeft - margin - 0.5;
        const right = r.right + ring > b.left + a.clientLeft + a.clientWidth + margin + 0.5;
        const top = !scrolls && r.top - ring < b.top + a.clientTop - margin - 0.5;
        const bottom = !scrolls && r.bottom + ring > b.top + a.clientTop + a.clientHeight + margin + 0.5;
        if (left || right || top || bottom) return `${el.outerHTML.slice(0, 80)}: ring cut by .${a.className.split(' ')[0]}`;
      }
      return null;
    });
    if (found && !cut.includes(found)) cut.push(found);
  }
  return cut;
}

test('keyboard: every control reached by Tab in every place shows its whole focus ring', async ({ page, app, consoleErrors }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  // More cards than the strip shows (Tab scrolls it), each with its “In History” link, and clips in History.
  for (const n of [1, 2, 3]) {
    await tinyJob(page, `focus fox ${n}`);
    await expect(page.getByTestId('job').filter({ hasText: `focus fox ${n}` })).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  }
  expect.soft(await clippedFocusRings(page, 90), 'Generate').toEqual([]);
  await goPlace(page, 'History');
  expect.soft(await clippedFocusRings(page, 40), 'History').toEqual([]);
  await goPlace(page, 'Library');
  expect.soft(await clippedFocusRings(page, 40), 'Library').toEqual([]);
  await goPlace(page, 'Settings');
  expect.soft(await clippedFocusRings(page, 40), 'Settings').toEqual([]);
  const t = await call(app, 'createTimeline', 'Focus');
  await call(app, 'addClip', t.id, (await call(app, 'listGenerations', { status: 'done', limit: 1 })).items[0].id);
  await goPlace(page, 'Timeline');
  await page.getByTestId('timeline-picker').selectOption(String(t.id));
  expect.soft(await clippedFocusRings(page, 40), 'Timeline').toEqual([]);
  expect(consoleErrors).toEqual([]);
});

/** Controls in the place that a toast's box overlaps. */
async function controlsUnderToasts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const toasts = Array.from(document.querySelectorAll('.toast')).map((t) => t.getBoundingClientRect());
    const hit: string[] = [];
    for (const el of Array.from(document.querySelectorAll('#main button, #main input, #main select, #main textarea, #main a[href], #main [role="slider"]'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || (el as HTMLInputElement).type === 'hidden') continue;
      if (toasts.some((t) => r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom)) hit.push(`${el.tagName.toLowerCase()} “${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40)}”`);
    }
    return hit;
  });
}

test('History at 1280×720 with a clip open: its actions are in view without scrolling, and the toasts they raise cover no control', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  if ((await call(app, 'listGenerations', { status: 'done' })).total === 0) {
    await tinyJob(page, 'details fox');
    await expect(page.getByTestId('job').first()).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  }
  await goPlace(page, 'History');
  await page.getByTestId('history-card').and(page.locator('[data-status="done"]')).first().locator('.history-thumb').click();
  const pane = page.getByTestId('history-details');
  // The starter has the name Generate's picker gives it on the card and in the details, not a third one.
  await expect.soft(pane.getByTestId('history-model')).toHaveText('Starter test model');
  await expect.soft(page.getByTestId('history-card').first().locator('.history-meta').first()).toContainText(/^Starter test model\s·/);
  // The providers a take tried are named as Settings names them (CUDA, DirectML), not by their ids (cuda, dml).
  const engine = pane.locator('dt', { hasText: /^Engine$/ }).locator('xpath=following-sibling::dd[1]');
  await expect.soft(engine).toContainText('CPU');
  await expect.soft(engine).not.toContainText(/\b(cpu|cuda|dml|webgpu|coreml)\b/, { timeout: 1000 });
  const main = await scrollport(page.locator('#main'));
  for (const id of ['history-reroll', 'history-rerun', 'history-reuse', 'history-send']) {
    const b = await box(pane.getByTestId(id));
    expect.soft(inside(b, main) && inside(b, await scrollport(pane)), `${id} is below the fold`).toBe(true);
  }
  // No button half shown at the pane's foot: each is whole in its visible part or wholly below it (the pane scrolls).
  const port = await scrollport(pane);
  const buttons = pane.getByRole('button');
  for (let i = 0; i < (await buttons.count()); i++) {
    const b = await box(buttons.nth(i));
    const hidden = b.y >= port.y + port.height - 1 || b.y + b.height <= port.y + 1;
    expect.soft(hidden || inside(b, port), `“${await buttons.nth(i).textContent()}” is cut at the details pane's edge`).toBe(true);
  }
  await screenshot(page, testInfo, 'layout-history-details-1280x720');
  await pane.getByTestId('history-reroll').click();
  await pane.getByTestId('history-rerun').click();
  await expect(page.locator('.toast')).toHaveCount(2);
  expect.soft(await controlsUnderToasts(page), 'History controls under a toast').toEqual([]);
  await screenshot(page, testInfo, 'layout-history-toasts-1280x720');
  await pane.getByTestId('history-reuse').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  await expect(page.locator('.toast').last()).toBeVisible();
  expect.soft(await controlsUnderToasts(page), 'Generate controls under a toast').toEqual([]);
  await screenshot(page, testInfo, 'layout-generate-toasts-1280x720');
  // Let the queued takes finish, so the next test starts from an idle engine.
  await expect(page.getByTestId('job').and(page.locator('[data-status="running"], [data-status="queued"]'))).toHaveCount(0, { timeout: 90_000 });
  expect(consoleErrors).toEqual([]);
});

/** Text in #main (and the header and status bar) whose contrast with what is behind it is under WCAG AA. */
async function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const parse = (c: string): [number, number, number, number] | null => {
      const m = c.match(/^rgba?\(([^)]+)\)$/);
      if (m) {
        const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
        return [p[0] / 255, p[1] / 255, p[2] / 255, p[3] ?? 1];
      }
      const s = c.match(/^color\(srgb ([^)]+)\)$/);
      if (s) {
        const p = s[1].split(/[\s/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p[3] ?? 1];
      }
      return null;
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    /** The colour behind an element: its ancestors' backgrounds blended from the page's up. */
    const behind = (el: Element): number[] => {
      const layers: number[][] = [];
      for (let a: Element | null = el; a; a = a.parentElement) {
        const c = parse(getComputedStyle(a).backgroundColor);
        if (c && c[3] > 0) layers.push(c);
        if (c && c[3] >= 1) break;
      }
      let rgb = [1, 1, 1];
      for (const l of layers.reverse()) rgb = rgb.map((v, i) => v * (1 - l[3]) + l[i] * l[3]);
      return rgb;
    };
    const out: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !(n.textContent ?? '').trim() || !el.closest('#main, .app-header, .status-bar')) continue;
      if (el.closest(':disabled, [aria-disabled="true"], .muted-disabled, option, .card-offline, [data-disabled]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      const s = getComputedStyle(el);
      const fg = parse(s.color);
      if (!fg) continue;
      const bg = behind(el);
      const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
      let opacity = 1;
      for (let a: Element | null = el; a; a = a.parentElement) opacity *= Number(getComputedStyle(a).opacity);
      const seen = mixed.map((v, i) => v * opacity + bg[i] * (1 - opacity));
      const [l1, l2] = [lum(seen), lum(bg)].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`${ratio.toFixed(2)}: “${(n.textContent ?? '').trim().slice(0, 40)}” (.${el.className || el.tagName})`);
    }
    return [...new Set(out)];
  });
}

test('contrast: text in every place reads at WCAG AA in the dark and the light theme', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  for (const theme of ['dark', 'light']) {
    if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== theme) await page.getByTestId('theme-toggle').click();
    for (const place of ['Generate', 'Library', 'Timeline', 'History', 'Settings']) {
      await goPlace(page, place);
      expect.soft(await lowContrastText(page), `${place}, ${theme}`).toEqual([]);
      if (theme === 'light') await screenshot(page, testInfo, `layout-${place.toLowerCase()}-light-1280x720`);
    }
  }
  await page.getByTestId('theme-toggle').click();
  expect(consoleErrors).toEqual([]);
});

test('Library at 1280×720: the search and filters are in view without scrolling, with Getting started open and folded', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'Library');
  const card = page.getByTestId('first-run');
  await expect(card).toHaveAttribute('open', '');
  // An optional file says so once, in the words that say what it is for (it said “optional” twice).
  for (const id of ['animatelcm-i2v-motion', 'animatelcm-i2v-lora']) {
    const row = page.getByTestId(`starter-${id}`);
    expect.soft(((await row.textContent()) ?? '').match(/optional/gi)?.length ?? 0, `“optional” in the ${id} row`).toBe(1);
  }
  const toolbar = page.locator('.library-toolbar');
  const controls = { search: page.getByTestId('library-search'), family: toolbar.locator('select').first(), tags: toolbar.locator('select').last(), favourites: toolbar.getByLabel('Favourites') };
  for (const state of ['open', 'folded']) {
    const main = await scrollport(page.locator('#main'));
    for (const [name, c] of Object.entries(controls)) expect.soft(inside(await box(c), main), `${name} is below the fold with Getting started ${state}`).toBe(true);
    await screenshot(page, testInfo, `layout-library-first-run-${state}-1280x720`);
    if (state === 'open') {
      await card.locator('summary').click();
      await expect(card).not.toHaveAttribute('open', '');
    }
  }
  expect(consoleErrors).toEqual([]);
});

test('Library: an empty tab says what it lacks by the name its tab gives it (it said “No vaes yet”)', async ({ page, app, consoleErrors }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'Library');
  for (const tab of ['VAEs', 'ControlNets', 'Checkpoints', 'Motion modules', 'Embeddings']) {
    await page.getByRole('group', { name: 'Kind' }).getByRole('button', { name: tab, exact: true }).click();
    const empty = page.locator('.library-layout .empty-state');
    // Names keep their capitals (VAE, ControlNet); plain words read in lower case mid-sentence.
    await expect.soft(empty, `the empty ${tab} tab`).toContainText(`No ${/[A-Z].*[A-Z]/.test(tab) ? tab : tab.toLowerCase()} yet`, { timeout: 2000 });
  }
  await screenshot(page, testInfo, 'layout-library-empty-controlnets-1280x720');
  expect(consoleErrors).toEqual([]);
});

test('Library at 1280×720: Getting started, once folded, stays folded when the creator comes back, so the library is in view', async ({ page, app, consoleErrors }, testInfo) => {
  const lora = join(mkdtempSync(join(tmpdir(), 'animatelcm-e2e-layout-')), 'fold-style.safetensors');
  writeStarterLora(lora, 2, 'fold-style');
  await call(app, 'importFile', lora);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(app.url);
  await goPlace(page, 'Library');
  const card = page.getByTestId('first-run');
  await expect(card).toHaveAttribute('open', '');
  await card.locator('summary').click();
  await expect(card).not.toHaveAttribute('open', '');
  // Away and back, and after a reload: still folded (the required files are still missing, nothing changed).
  await goPlace(page, 'Generate');
  await goPlace(page, 'Library');
  await expect.soft(card).not.toHaveAttribute('open', '');
  await page.reload();
  await goPlace(page, 'Library');
  await expect.soft(card).not.toHaveAttribute('open', '');
  const main = await scrollport(page.locator('#main'));
  expect.soft(inside(await box(page.getByTestId('library-card').first().getByText('fold-style', { exact: true })), main), 'the first library card is below the fold').toBe(true);
  await screenshot(page, testInfo, 'layout-library-folded-1280x720');
  // Opened again by hand, it stays open.
  await card.locator('summary').click();
  await goPlace(page, 'Generate');
  await goPlace(page, 'Library');
  await expect(card).toHaveAttribute('open', '');
  expect(consoleErrors).toEqual([]);
});
