/**
 * The renderer's one way to the studio: picks the transport at startup (the preload's `window.studio` in Electron,
 * else the WebSocket in web mode) and hands the panels a plain StudioApi. Panels never know which one it is.
 */
import { MEDIA_PROTOCOL, WEB_MEDIA_PATH, type StudioApi, type TransportMode } from '../../shared/api';
import { fromBridge } from './bridge-client';
import { connectWebSocket, type SocketState } from './socket-client';

export interface Connection {
  api: StudioApi;
  mode: TransportMode;
  /** A URL the page may load for a media file inside the studio's folders. */
  mediaUrl(path: string): string;
  /** Web mode only: the socket's state, for the status bar. */
  onSocketState?(listener: (s: SocketState) => void): () => void;
}

export async function connect(): Promise<Connection> {
  if (window.studio) {
    return {
      api: fromBridge(window.studio),
      mode: 'electron',
      mediaUrl: (path) => `${MEDIA_PROTOCOL}://media/${encodeURIComponent(path)}`,
    };
  }
  const socket = await connectWebSocket(takeToken());
  return {
    api: socket.api,
    mode: 'web',
    mediaUrl: (path) => `${WEB_MEDIA_PATH}${encodeURIComponent(path)}`,
    onSocketState: socket.onState,
  };
}

/**
 * The token arrives in the URL the server printed (`?token=` or `#token=`). It is removed from the address bar
 * once read, so it does not linger in history or screenshots; the HttpOnly cookie set with the page keeps
 * reloads working.
 */
function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromHash = new URLSearchParams(url.hash.slice(1)).get('token');
  const token = url.searchParams.get('token') ?? fromHash;
  if (token !== null) {
    url.searchParams.delete('token');
    if (fromHash !== null) url.hash = '';
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return token;
}
