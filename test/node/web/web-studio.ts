/**
 * Web mode for tests: real services over a fresh data folder, behind the real server with a one-page renderer, in
 * a temporary folder that `close` removes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudioServices, type StudioServices } from '../../../src/main/services/studio-services';
import { startWebServer, type WebServer } from '../../../src/main/web/server';

export interface WebStudio {
  root: string;
  dataDir: string;
  rendererDir: string;
  services: StudioServices;
  server: WebServer;
  close(): Promise<void>;
}

/** `prepare` runs on the empty folders before the services open (fixtures a test needs in place at start). */
export async function startWebStudio(prefix: string, prepare?: (dirs: { root: string; dataDir: string; rendererDir: string }) => void): Promise<WebStudio> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const rendererDir = join(root, 'renderer');
  const dataDir = join(root, 'data');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  prepare?.({ root, dataDir, rendererDir });
  const services = createStudioServices({ dataDir, mode: 'web' });
  const server = await startWebServer({ services, rendererDir, port: 0 });
  return {
    root,
    dataDir,
    rendererDir,
    services,
    server,
    close: async () => {
      await server.close();
      await services.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
