/**
 * The one place that decides the studio's data folder, for the desktop app, web mode and the CLI alike, so all
 * three see the same library and history: `--data-dir <dir>`, else ANIMATELCM_DATA_DIR, else the platform's
 * per-user data folder:
 *   Linux   $XDG_DATA_HOME/animatelcm-studio, or ~/.local/share/animatelcm-studio
 *   macOS   ~/Library/Application Support/AnimateLCM Studio
 *   Windows %APPDATA%\AnimateLCM Studio
 * (The desktop app used to take Electron's `userData` folder, ~/.config/… on Linux, and so saw none of what the
 * CLI made.)
 */
import { homedir } from 'node:os';
import { join, resolve, win32 } from 'node:path';

export const DATA_DIR_ENV = 'ANIMATELCM_DATA_DIR';

export function defaultDataDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (platform === 'win32') return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), 'AnimateLCM Studio');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'AnimateLCM Studio');
  // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), 'animatelcm-studio');
}

/** The folder from an explicit value, the environment, or the platform default; always absolute. */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit && explicit.length > 0 ? explicit : env[DATA_DIR_ENV];
  return resolve(chosen && chosen.length > 0 ? chosen : defaultDataDir(process.platform, env));
}

/** `--data-dir <dir>` or `--data-dir=<dir>` from a raw argument list (Electron's argv), then as resolveDataDir. */
export function dataDirFromArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const i = argv.indexOf('--data-dir');
  const explicit = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--data-dir='))?.slice('--data-dir='.length);
  return resolveDataDir(explicit, env);
}
