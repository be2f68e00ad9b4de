/**
 * Which data folder a command works on: `--data-dir <dir>`, else ANIMATELCM_DATA_DIR, else the platform's per-user
 * data folder (the same one the desktop app uses, so the CLI sees the app's library and history):
 *   Linux   $XDG_DATA_HOME/animatelcm-studio, or ~/.local/share/animatelcm-studio
 *   macOS   ~/Library/Application Support/AnimateLCM Studio
 *   Windows %APPDATA%\AnimateLCM Studio
 */
import { homedir } from 'node:os';
import { join, resolve, win32 } from 'node:path';
import { flag, type ParsedArgs } from './command';

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

/** `--data-dir` from parsed CLI arguments, then as resolveDataDir. */
export function dataDirFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  return resolveDataDir(flag(args, 'data-dir'), env);
}
