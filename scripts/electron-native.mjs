#!/usr/bin/env node
// Prepares native addons for Electron's ABI without disturbing the plain-Node builds that web mode, the CLI and
// the tests use. better-sqlite3 in node_modules stays built for Node; a copy built for the installed Electron
// goes to .cache/electron-native/better-sqlite3, which the Electron shell passes to better-sqlite3 as its
// nativeBinding (ANIMATELCM_SQLITE_BINDING). onnxruntime-node needs nothing: it is N-API and works in both.
//
// It tries the published Electron prebuild first (prebuild-install) and falls back to compiling against
// Electron's headers (node-gyp). Both need the network once; after that the build is reused.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

let electronVersion;
try {
  electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
} catch {
  console.log('electron-native: electron is not installed; nothing to prepare.');
  process.exit(0);
}

const source = dirname(require.resolve('better-sqlite3/package.json'));
const target = join(root, '.cache', 'electron-native', 'better-sqlite3');
const binary = join(target, 'build', 'Release', 'better_sqlite3.node');
const stamp = join(target, `.electron-${electronVersion}`);
if (existsSync(binary) && existsSync(stamp)) process.exit(0);

rmSync(target, { recursive: true, force: true });
mkdirSync(dirname(target), { recursive: true });
cpSync(source, target, { recursive: true, filter: (p) => !p.includes(`${join(source, 'build')}`) });
// better-sqlite3's own install script (`prebuild-install || node-gyp rebuild --release`), run by npm so its
// bundled node-gyp is on PATH, with npm's runtime/target settings pointed at Electron.
try {
execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'install'], {
  cwd: target,
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: {
    ...process.env,
    PATH: `${join(root, 'node_modules', '.bin')}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`,
    npm_config_runtime: 'electron',
    npm_config_target: electronVersion,
    npm_config_disturl: 'https://electronjs.org/headers',
    npm_config_arch: process.arch,
    // Never build against a machine-wide Node header folder: the ABI must be Electron's.
    npm_config_nodedir: '',
  },
});
} catch {
  // Not fatal: the window, the engine and exports still work; only the library/history database needs it.
}
if (!existsSync(binary)) {
  console.warn('electron-native: better-sqlite3 for Electron could not be prepared (offline?). The studio opens, but its\n' +
    'library and history need it: run `node scripts/electron-native.mjs` once online, or use `npm run web`.');
  process.exit(0);
}
execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(stamp)}, '')`]);
console.log(`electron-native: better-sqlite3 ready for Electron ${electronVersion}`);
