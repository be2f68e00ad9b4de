/**
 * The studio window and its security defaults (Electron's security checklist): an isolated, sandboxed renderer
 * without Node, the preload as the only bridge, shown only once it has painted (no white flash).
 */
import { BrowserWindow } from 'electron';

export interface WindowOptions {
  preloadPath: string;
  /** The page to load: app://studio/index.html, or the dev server in `npm run dev`. */
  url: string;
  iconPath?: string;
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'AnimateLCM Studio',
    icon: opts.iconPath,
    backgroundColor: '#17181a',
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.url);
  return win;
}
