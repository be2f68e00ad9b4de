/**
 * The Electron end-to-end test (test/electron). It needs the Electron binary, which electron 45 downloads lazily
 * on first use; where it is not installed (offline CI, this build machine) the test reports SKIPPED with the
 * reason instead of failing or trying to download.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'test/electron',
  outputDir: 'test-results/electron',
  timeout: 90_000,
  workers: 1,
  reporter: [['list'], ['./test/electron/skip-reason-reporter.ts']],
});
