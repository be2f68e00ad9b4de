/**
 * The studio shell in Chromium against the real web-mode backend: it loads, shows what the engine sees (the same
 * answer the backend gives over the API), is keyboard navigable, and the server refuses anything without the
 * token or from another origin.
 */
import type { EngineInfo } from '../../src/shared/api';
import { expect, test } from './fixtures';
import { callOverSocket } from './socket';

const PROVIDER_LABELS: Record<string, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML', webgpu: 'WebGPU' };

test('the shell loads and shows the engine status from the real backend', async ({ page, studio, consoleErrors }, testInfo) => {
  const socketUrl = `ws://127.0.0.1:${studio.port}/api?token=${studio.token}`;
  const backend = await callOverSocket(socketUrl, { Origin: studio.origin }, 'getEngineInfo');
  expect(backend.result?.ok, JSON.stringify(backend)).toBe(true);
  const info = (backend.result as { ok: true; value: EngineInfo }).value;

  await page.goto(studio.url);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  await expect(page.getByTestId('engine-ort-version')).toHaveText(`onnxruntime ${info.onnxruntimeVersion}`);
  const usable = info.providers.filter((p) => p.usable).map((p) => PROVIDER_LABELS[p.name]);
  expect(usable.length).toBeGreaterThan(0);
  await expect(page.getByTestId('engine-providers')).toHaveText(`Runs on ${usable.join(', ')}`);
  await expect(page.getByTestId('transport-mode')).toHaveText('Web mode (localhost)');
  await expect(page.getByText(`v${info.appVersion}`)).toBeVisible();

  const unusable = info.providers.filter((p) => !p.usable);
  if (unusable.length > 0) {
    await page.getByRole('button', { name: `${unusable.length} not available` }).click();
    for (const p of unusable) await expect(page.getByTestId('engine-unusable-providers')).toContainText(PROVIDER_LABELS[p.name]);
  }

  // The token leaves the address bar once read; a reload still works through the HttpOnly cookie.
  expect(new URL(page.url()).searchParams.has('token')).toBe(false);
  await page.reload();
  await expect(page.getByTestId('engine-ort-version')).toHaveText(`onnxruntime ${info.onnxruntimeVersion}`);

  await page.screenshot({ path: testInfo.outputPath('shell-generate.png') });
  expect(consoleErrors).toEqual([]);
});

test('the places are reachable by keyboard, with a visible focus ring', async ({ page, studio, consoleErrors }) => {
  await page.goto(studio.url);
  const nav = page.getByRole('navigation', { name: 'Places' });
  await expect(nav.getByRole('button')).toContainText(['Generate', 'Library', 'Timeline', 'History']);

  await nav.getByRole('button', { name: 'Generate' }).focus();
  for (const name of ['Library', 'Timeline', 'History']) {
    await page.keyboard.press('ArrowDown');
    const button = nav.getByRole('button', { name });
    await expect(button).toBeFocused();
    await expect(button).toHaveAttribute('aria-current', 'page');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
  }
  const outline = await nav.getByRole('button', { name: 'History' }).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Home');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
  await expect(nav.getByRole('button', { name: 'Generate' })).toBeFocused();
  expect(consoleErrors).toEqual([]);
});

test('HTTP requests without the token are refused', async ({ playwright, studio }) => {
  const api = await playwright.request.newContext();
  const noToken = await api.get(`${studio.origin}/`);
  expect(noToken.status()).toBe(401);
  const wrongToken = await api.get(`${studio.origin}/?token=${'x'.repeat(studio.token.length)}`);
  expect(wrongToken.status()).toBe(401);
  const withToken = await api.get(studio.url);
  expect(withToken.status()).toBe(200);
  expect(withToken.headers()['content-security-policy']).toContain("script-src 'self'");
  // The page's assets too: a fresh client without the cookie gets nothing.
  const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(await withToken.text())?.[1];
  expect(asset).toBeTruthy();
  const fresh = await playwright.request.newContext();
  expect((await fresh.get(`${studio.origin}/${asset}`)).status()).toBe(401);
  expect((await fresh.get(`${studio.origin}/${asset}?token=${studio.token}`)).status()).toBe(200);
  await api.dispose();
  await fresh.dispose();
});

test('the WebSocket without the token is refused', async ({ studio }) => {
  const withoutToken = await callOverSocket(`ws://127.0.0.1:${studio.port}/api`, { Origin: studio.origin }, 'getEngineInfo');
  expect(withoutToken.refusedWith).toBe(401);
  const wrongToken = await callOverSocket(`ws://127.0.0.1:${studio.port}/api?token=nope`, { Origin: studio.origin }, 'getEngineInfo');
  expect(wrongToken.refusedWith).toBe(401);
});

test('other origins and rebound host names are refused', async ({ playwright, page, studio }) => {
  const socketUrl = `ws://127.0.0.1:${studio.port}/api?token=${studio.token}`;
  expect((await callOverSocket(socketUrl, { Origin: 'http://evil.example' }, 'getEngineInfo')).refusedWith).toBe(403);
  expect((await callOverSocket(socketUrl, {}, 'getEngineInfo')).refusedWith).toBe(403);
  expect((await callOverSocket(socketUrl, { Origin: studio.origin, Host: `evil.example:${studio.port}` }, 'getEngineInfo')).refusedWith).toBe(421);

  const api = await playwright.request.newContext();
  expect((await api.get(studio.url, { headers: { Origin: 'http://evil.example' } })).status()).toBe(403);
  expect((await api.get(studio.url, { headers: { Host: `rebound.example:${studio.port}` } })).status()).toBe(421);
  await api.dispose();

  // A page on another origin that knows the token still cannot open the socket: the browser sends its Origin.
  await page.goto('about:blank');
  const opened = await page.evaluate(
    (url) =>
      new Promise<boolean>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
      }),
    socketUrl,
  );
  expect(opened).toBe(false);
});

test('requests reach the real services; invalid arguments get BAD_REQUEST, not a crash', async ({ studio }) => {
  const socketUrl = `ws://127.0.0.1:${studio.port}/api?token=${studio.token}`;
  const bad = await callOverSocket(socketUrl, { Origin: studio.origin }, 'getGeneration', ['not-an-id']);
  expect(bad.result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  const unknown = await callOverSocket(socketUrl, { Origin: studio.origin }, 'constructor', []);
  expect(unknown.result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  // A store-backed call through the bundle (better-sqlite3 stays external and loads from node_modules).
  const timelines = await callOverSocket(socketUrl, { Origin: studio.origin }, 'listTimelines', []);
  expect(timelines.result).toEqual({ ok: true, value: [] });
});
