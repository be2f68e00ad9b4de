/**
 * The desktop app end to end: launches the built app (out/main/index.js) in Electron, checks the window's
 * security settings from inside the page and that the status bar shows the engine through the preload bridge.
 * Needs the Electron binary; where it is absent the test is skipped with the reason (see electron-binary.ts).
 */
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electronBinary } from './electron-binary';

const binary = electronBinary();

test('the desktop app opens a sandboxed window that shows the engine status', async () => {
  test.skip(binary.path === null, binary.reason);
  expect(existsSync('out/main/index.js'), 'run npm run build first').toBe(true);
  const dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-electron-'));
  const app = await electron.launch({
    executablePath: binary.path as string,
    args: ['out/main/index.js', '--data-dir', dataDir, ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
  });
  try {
    const page = await app.firstWindow();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Generate');
    await expect(page.getByTestId('engine-ort-version')).toHaveText(/^onnxruntime \d+\.\d+/);
    await expect(page.getByTestId('transport-mode')).toHaveText('Desktop');
    // No Node in the page; only the named bridge.
    const globals = await page.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      studio: typeof (window as unknown as { studio?: { getEngineInfo?: unknown } }).studio?.getEngineInfo,
      origin: window.location.origin,
    }));
    expect(globals).toEqual({ require: 'undefined', process: 'undefined', studio: 'function', origin: 'app://studio' });
    // window.open is denied.
    expect(await page.evaluate(() => window.open('https://example.com') === null)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
