/**
 * Where ffmpeg comes from, in order: the optional `ffmpeg-static` package (a binary shipped with the app), the
 * FFMPEG_PATH environment variable, then `ffmpeg` on PATH. Each candidate must actually run (`-version`), so a
 * broken download or a stale FFMPEG_PATH falls through to the next place instead of failing later mid-export.
 *
 * ffprobe is looked for next to the ffmpeg that was chosen, then FFPROBE_PATH, then PATH. It is optional:
 * readers fall back to `ffmpeg -f ffmetadata` when it is missing (ffmpeg-static ships no ffprobe).
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { StudioError } from '../../shared/errors';

export interface FfmpegTools {
  ffmpeg: string;
  /** Undefined when no working ffprobe was found. */
  ffprobe?: string;
  /** Which place supplied ffmpeg. */
  source: 'ffmpeg-static' | 'FFMPEG_PATH' | 'PATH';
}

export interface LocateOptions {
  /** Environment to read FFMPEG_PATH / FFPROBE_PATH / PATH from (tests inject an empty one). */
  env?: Record<string, string | undefined>;
  /**
   * The ffmpeg-static path: a string, null for "package not installed", or undefined to ask the package.
   */
  staticPath?: string | null;
  /** Platform (for the .exe suffix); defaults to process.platform. */
  platform?: NodeJS.Platform;
}

/** The path `ffmpeg-static` exports, or null when the optional package is not installed. */
function ffmpegStaticPath(): string | null {
  try {
    // createRequire: the package is optional, so a static import would break the build where it is absent.
    const req = createRequire(import.meta.url);
    const p: unknown = req('ffmpeg-static');
    // Packaged Electron apps: the binary must live outside the asar archive to be executable.
    return typeof p === 'string' ? p.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1') : null;
  } catch {
    return null;
  }
}

const runsCache = new Map<string, boolean>();

/** True when `file` exists and `file -version` exits 0 (cached per path for the process lifetime). */
function runs(file: string): boolean {
  const cached = runsCache.get(file);
  if (cached !== undefined) return cached;
  let ok = false;
  try {
    if (statSync(file).isFile()) {
      const r = spawnSync(file, ['-hide_banner', '-version'], { timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
      ok = r.status === 0;
    }
  } catch {
    ok = false;
  }
  runsCache.set(file, ok);
  return ok;
}

function onPath(name: string, env: Record<string, string | undefined>, platform: NodeJS.Platform): { found?: string; dirs: string[] } {
  const pathVar = env.PATH ?? env.Path ?? '';
  const dirs = pathVar.split(platform === 'win32' ? ';' : delimiter).filter((d) => d.length > 0);
  const exe = platform === 'win32' ? `${name}.exe` : name;
  for (const d of dirs) {
    const p = join(d, exe);
    if (runs(p)) return { found: p, dirs };
  }
  return { dirs };
}

/** Find ffmpeg (and ffprobe). Throws FFMPEG_NOT_FOUND naming the three places looked at. */
export function locateFfmpeg(opts: LocateOptions = {}): FfmpegTools {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const staticPath = opts.staticPath === undefined ? ffmpegStaticPath() : opts.staticPath;
  const looked: string[] = [];

  let ffmpeg: string | undefined;
  let source: FfmpegTools['source'] = 'PATH';
  if (staticPath && runs(staticPath)) {
    ffmpeg = staticPath;
    source = 'ffmpeg-static';
  } else {
    looked.push(staticPath ? `the ffmpeg-static package (${staticPath} did not run)` : 'the ffmpeg-static package (not installed)');
    const envPath = env.FFMPEG_PATH;
    if (envPath && runs(envPath)) {
      ffmpeg = envPath;
      source = 'FFMPEG_PATH';
    } else {
      looked.push(envPath ? `FFMPEG_PATH (${envPath} did not run)` : 'the FFMPEG_PATH environment variable (not set)');
      const p = onPath('ffmpeg', env, platform);
      if (p.found) ffmpeg = p.found;
      else looked.push(p.dirs.length ? `"ffmpeg" on PATH (${p.dirs.join(platform === 'win32' ? ';' : delimiter)})` : '"ffmpeg" on PATH (PATH is empty)');
    }
  }
  if (!ffmpeg) {
    throw new StudioError(
      'FFMPEG_NOT_FOUND',
      `ffmpeg was not found, so nothing can be exported. Looked in: ${looked.map((l, i) => `${i + 1}) ${l}`).join('; ')}. ` +
        'Install ffmpeg (e.g. from ffmpeg.org or your package manager) or set FFMPEG_PATH to the full path of the ffmpeg program.',
      { looked },
    );
  }

  const probeName = platform === 'win32' ? 'ffprobe.exe' : 'ffprobe';
  const sibling = join(dirname(ffmpeg), probeName);
  let ffprobe: string | undefined;
  if (runs(sibling)) ffprobe = sibling;
  else if (env.FFPROBE_PATH && runs(env.FFPROBE_PATH)) ffprobe = env.FFPROBE_PATH;
  else ffprobe = onPath('ffprobe', env, platform).found;
  return ffprobe ? { ffmpeg, ffprobe, source } : { ffmpeg, source };
}
