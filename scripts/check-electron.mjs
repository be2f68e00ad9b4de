#!/usr/bin/env node
// Runs before `npm start` / `npm run dev`: without Electron's binary (its download was skipped or failed, as on an
// offline machine) electron-vite fails with a bare "Error: Electron uninstall" — say what is wrong and what works
// instead, in one sentence, and stop before anything is built.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** Where the Electron executable should be, as the electron package itself finds it; null when it is not there. */
function electronBinary() {
  let dir;
  try {
    dir = dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const executable = readFileSync(pathFile, 'utf8').trim();
  const full = process.env.ELECTRON_OVERRIDE_DIST_PATH ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, executable) : join(dir, 'dist', executable);
  return existsSync(full) ? full : null;
}

if (!electronBinary()) {
  console.error('The Electron binary is not installed (its download was skipped or failed), so the desktop app cannot open; run `npm run web` to use the studio in your browser instead.');
  process.exit(1);
}
