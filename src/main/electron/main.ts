/**
 * The desktop app's entry (out/main/index.js). Thin on purpose: lifecycle, the window, protocols, the IPC server.
 * The studio itself lives in the services; inference runs in the engine's utility process.
 *
 * Options: --data-dir <dir> (or ANIMATELCM_DATA_DIR); default: the same per-user folder as web mode and the CLI
 * (src/main/data-dir.ts).
 */
import { app, BrowserWindow, dialog } from 'electron';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineHost } from '../services/engine-host';
import { dataDirFromArgv } from '../data-dir';
import { createStudioServices, type SavePicker, type StudioServices } from '../services/studio-services';
import { utilityProcessLauncher } from './engine-launcher';
import { hardenApp, hardenSession } from './hardening';
import { startIpcServer } from './ipc-server';
import { APP_ORIGIN, handleProtocols, registerSchemes } from './protocols';
import { createMainWindow } from './window';

const here = dirname(fileURLToPath(import.meta.url));
const devServer = process.env.ELECTRON_RENDERER_URL;
const trustedOrigins = devServer ? [APP_ORIGIN, new URL(devServer).origin] : [APP_ORIGIN];

// The studio database needs better-sqlite3 built for Electron's ABI (scripts/electron-native.mjs, run before
// `npm start`); plain Node keeps using the build in node_modules.
const electronSqlite = join(here, '..', '..', '.cache', 'electron-native', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
if (!process.env.ANIMATELCM_SQLITE_BINDING && existsSync(electronSqlite)) process.env.ANIMATELCM_SQLITE_BINDING = electronSqlite;

registerSchemes();
hardenApp(trustedOrigins);

let services: StudioServices | undefined;
let stopIpc: (() => void) | undefined;

const FORMAT_FILTERS: Record<Parameters<SavePicker>[1], { name: string; extensions: string[] }[]> = {
  mp4: [{ name: 'MP4 video', extensions: ['mp4'] }],
  webm: [{ name: 'WebM video', extensions: ['webm'] }],
  gif: [{ name: 'GIF animation', extensions: ['gif'] }],
  // A PNG sequence is a folder: the name typed is the folder to create.
  png: [],
};

/** The export's save dialog, in the user's Videos folder; the system dialog asks before replacing a file. */
function savePickerFor(win: BrowserWindow): SavePicker {
  return async (suggestedName, format) => {
    const file = format === 'png' || suggestedName.toLowerCase().endsWith(`.${format}`) ? suggestedName : `${suggestedName}.${format}`;
    let folder: string;
    try {
      folder = app.getPath('videos');
    } catch {
      folder = app.getPath('home'); // no Videos folder known on this system
    }
    const r = await dialog.showSaveDialog(win, {
      title: format === 'png' ? 'Export PNG frames into a new folder' : 'Export',
      defaultPath: join(folder, file),
      filters: FORMAT_FILTERS[format],
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    });
    return r.canceled || !r.filePath ? null : r.filePath;
  };
}

function openWindow(s: StudioServices): void {
  const win = createMainWindow({
    preloadPath: join(here, '..', 'preload', 'index.cjs'),
    url: devServer ?? `${APP_ORIGIN}/index.html`,
    iconPath: join(here, '..', '..', 'resources', 'icon.png'),
  });
  stopIpc?.();
  stopIpc = startIpcServer({ services: s, window: win, trustedOrigins });
  s.setSavePicker(savePickerFor(win));
  win.on('closed', () => {
    s.setSavePicker(undefined);
    stopIpc?.();
    stopIpc = undefined;
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  void app.whenReady().then(() => {
    hardenSession();
    const dataDir = dataDirFromArgv(process.argv);
    const s = createStudioServices({ dataDir, mode: 'electron', engine: new EngineHost(utilityProcessLauncher) });
    services = s;
    handleProtocols(join(here, '..', 'renderer'), () => s.mediaRoots());
    void s.engine.start().catch(() => undefined);
    openWindow(s);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow(s);
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let closing = false;
  app.on('before-quit', (e) => {
    if (closing || !services) return;
    closing = true;
    e.preventDefault();
    void services.close().finally(() => app.quit());
  });
}
