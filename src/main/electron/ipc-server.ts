/**
 * The Electron transport's server side, and the ONE place where IPC senders and channels are checked. Only the
 * known channels (one per StudioApi method) are handled; a message is served only if it comes from the app's own
 * window, from its top frame, showing the app's own page. Arguments are then validated and dispatched by
 * invokeApi like every web request.
 */
import { ipcMain, type BrowserWindow } from 'electron';
import { API_METHODS, IPC_EVENT_CHANNEL, ipcChannelFor, type ApiResult } from '../../shared/api';
import { invokeApi, type StudioServices } from '../services/studio-services';
import { isTrustedSender } from './sender-check';

export interface IpcServerOptions {
  services: StudioServices;
  window: BrowserWindow;
  /** Origins the app's page is served from (app://studio; the dev server's in `npm run dev`). */
  trustedOrigins: readonly string[];
}

/** Registers every method's channel and forwards service events to the window. Returns an unregister function. */
export function startIpcServer(opts: IpcServerOptions): () => void {
  const { services, window, trustedOrigins } = opts;
  for (const method of API_METHODS) {
    ipcMain.handle(ipcChannelFor(method), (event, ...args: unknown[]): Promise<ApiResult<unknown>> | ApiResult<unknown> => {
      if (!isTrustedSender(event, window, trustedOrigins))
        return { ok: false, error: { code: 'UNAUTHORIZED', message: 'This page may not use the studio.' } };
      return invokeApi(services, method, args);
    });
  }
  const unsubscribe = services.subscribe((event, payload) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, event, payload);
  });
  return () => {
    unsubscribe();
    for (const method of API_METHODS) ipcMain.removeHandler(ipcChannelFor(method));
  };
}
