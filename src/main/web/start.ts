/**
 * `npm run web`: the studio in a browser. Starts the services and the localhost server, prints the URL (with its
 * per-launch token) and runs until interrupted.
 *
 *   npm run web -- [--port <n>] [--data-dir <dir>] [--renderer-dir <dir>]
 *
 * --port 0 (the default) picks a free port. The data folder is --data-dir, else ANIMATELCM_DATA_DIR, else the
 * platform's per-user folder. The line starting with "Open " is stable: tests and scripts read the URL from it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseArgs } from '../cli/command';
import { resolveDataDir } from '../data-dir';
import { createStudioServices } from '../services/studio-services';
import { defaultRendererDir, startWebServer } from './server';

const USAGE = 'Usage: npm run web -- [--port <n>] [--data-dir <dir>] [--renderer-dir <dir>]';

export async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`AnimateLCM Studio in your browser (localhost only).\n\n${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv);
  const portText = flag(args, 'port') ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer 0…65535 (got "${portText}").\n${USAGE}\n`);
    return 2;
  }
  const candidates = [flag(args, 'renderer-dir'), ...defaultRendererDir(dirname(fileURLToPath(import.meta.url)))].filter((d): d is string => !!d);
  const rendererDir = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!rendererDir) {
    process.stderr.write(`The renderer is not built (looked in ${candidates.join(', ')}). Run: npm run build:web\n`);
    return 1;
  }
  const dataDir = resolveDataDir(flag(args, 'data-dir'));
  const services = createStudioServices({ dataDir, mode: 'web' });
  const server = await startWebServer({ services, rendererDir, port });
  // Start the engine now, so the first request does not wait for it.
  void services.engine.start().catch(() => undefined);

  process.stdout.write(`AnimateLCM Studio (web mode)\nData folder: ${dataDir}\nOpen ${server.url}\n`);

  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await services.close();
  return 0;
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`The studio could not start: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
