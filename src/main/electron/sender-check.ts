/**
 * Is this IPC message from the app's own page? Kept free of runtime Electron imports (types only) so the rule can
 * be tested in plain Node. A message passes only if it comes from the app window's webContents, from its main frame
 * (not an iframe), and that frame shows a trusted origin.
 */
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';

type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;
type AppWindow = Pick<BrowserWindow, 'isDestroyed' | 'webContents'>;

export function isTrustedSender(event: SenderEvent, window: AppWindow, trustedOrigins: readonly string[]): boolean {
  if (window.isDestroyed() || event.sender !== window.webContents) return false;
  const frame = event.senderFrame;
  if (!frame || frame !== window.webContents.mainFrame) return false;
  const origin = originOf(frame.url);
  return origin !== null && trustedOrigins.includes(origin);
}

/**
 * scheme://host[:port] of a URL. Not `new URL(u).origin`: in main that is Node's URL, which answers "null" for
 * schemes it does not know, such as the app's own app://studio.
 */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : null;
  } catch {
    return null;
  }
}
