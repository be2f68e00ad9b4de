/**
 * App-wide rules for every web contents, present and future: no new windows, no navigation away from the app's
 * own page, no <webview>, no permission prompts (camera, notifications, …: the studio needs none).
 */
import { app, session } from 'electron';
import { originOf } from './sender-check';

export function hardenApp(trustedOrigins: readonly string[]): void {
  const trusted = (url: string) => {
    const origin = originOf(url);
    return origin !== null && trustedOrigins.includes(origin);
  };
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (e, url) => {
      if (!trusted(url)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!trusted(url)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
}

/** Call once the app is ready (sessions exist then). */
export function hardenSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  // Nothing remote is ever loaded; refuse it at the network layer too.
  s.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (details, callback) => {
    const devServer = process.env.ELECTRON_RENDERER_URL;
    callback({ cancel: !(devServer && details.url.startsWith(new URL(devServer).origin)) });
  });
}
