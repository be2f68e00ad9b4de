/**
 * Where the Electron binary is, found without `require('electron')` — that call starts a download when the
 * binary is missing, which must not happen in tests (offline machines, CI without network).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function electronBinary(): { path: string | null; reason: string } {
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const p = join(override, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return existsSync(p) ? { path: p, reason: '' } : { path: null, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${p} does not exist.` };
  }
  const pkg = join('node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (existsSync(pathFile)) {
    const p = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
    if (existsSync(p)) return { path: p, reason: '' };
  }
  return {
    path: null,
    reason:
      'SKIPPED: the Electron binary is not installed (node_modules/electron/dist is missing; electron downloads it ' +
      'lazily from GitHub on first use). Install it with `npx install-electron` where the network allows, or set ' +
      'ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron 45, then run `npm run test:electron`.',
  };
}
