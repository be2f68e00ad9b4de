import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../src/main/cli/command';
import { dataDirFromArgs } from '../../../src/main/cli/data-dir';
import { dataDirFromArgv, defaultDataDir, resolveDataDir } from '../../../src/main/data-dir';

describe('data folder resolution', () => {
  it('uses the platform folder: XDG on Linux, Application Support on macOS, APPDATA on Windows', () => {
    expect(defaultDataDir('linux', {}, '/home/ana')).toBe('/home/ana/.local/share/animatelcm-studio');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: '/data/xdg' }, '/home/ana')).toBe('/data/xdg/animatelcm-studio');
    expect(defaultDataDir('linux', { XDG_DATA_HOME: 'relative/ignored' }, '/home/ana')).toBe('/home/ana/.local/share/animatelcm-studio');
    expect(defaultDataDir('darwin', {}, '/Users/ana')).toBe('/Users/ana/Library/Application Support/AnimateLCM Studio');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\AnimateLCM Studio');
    expect(defaultDataDir('win32', {}, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming\\AnimateLCM Studio');
  });

  it('prefers --data-dir, then ANIMATELCM_DATA_DIR, and always answers an absolute path', () => {
    const env = { ANIMATELCM_DATA_DIR: '/portable/data', XDG_DATA_HOME: '/x' };
    expect(dataDirFromArgs(parseArgs(['list', '--data-dir', 'rel/dir']), env)).toBe(resolve('rel/dir'));
    expect(dataDirFromArgs(parseArgs(['list', '--data-dir=/abs']), env)).toBe('/abs');
    expect(dataDirFromArgs(parseArgs(['list']), env)).toBe('/portable/data');
    expect(resolveDataDir(undefined, { ANIMATELCM_DATA_DIR: '' })).toBe(defaultDataDir(process.platform, { ANIMATELCM_DATA_DIR: '' }));
    if (process.platform === 'linux') expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/x' })).toBe(join('/x', 'animatelcm-studio'));
  });

  it('reads --data-dir from a raw argument list the way the desktop app receives it', () => {
    const env = { ANIMATELCM_DATA_DIR: '/portable/data' };
    expect(dataDirFromArgv(['electron', '.', '--data-dir', '/a'], env)).toBe('/a');
    expect(dataDirFromArgv(['electron', '.', '--data-dir=/b'], env)).toBe('/b');
    expect(dataDirFromArgv(['electron', '.'], env)).toBe('/portable/data');
    expect(dataDirFromArgv(['electron', '.'], { XDG_DATA_HOME: '/x' })).toBe(process.platform === 'linux' ? '/x/animatelcm-studio' : defaultDataDir(process.platform, { XDG_DATA_HOME: '/x' }));
  });

  it('is decided in one place: no other source file reads the variable, asks Electron for userData or defines its own', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|tsx|mjs)$/.test(e.name)) files.push(p);
      }
    };
    walk('src');
    const offenders = files.filter((f) => f !== join('src', 'main', 'data-dir.ts')).filter((f) => /env(\.|\[['"])ANIMATELCM_DATA_DIR|getPath\(['"]userData|function (resolveDataDir|defaultDataDir|platformDataDir)/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
