/**
 * Web mode: the StudioApi over the server's WebSocket. Requests carry an id and settle when the matching result
 * arrives; events fan out to local listeners, which survive reconnects (the socket reconnects with backoff after
 * the server restarts or the machine sleeps). Calls made while disconnected fail at once with a clear error.
 */
import { API_EVENTS, API_METHODS, WEB_SOCKET_PATH, type ApiEvent, type StudioApi, type WireMessage, type WireRequest } from '../../shared/api';
import { StudioError, deserializeError } from '../../shared/errors';

export type SocketState = 'connecting' | 'open' | 'closed';

export interface SocketConnection {
  api: StudioApi;
  onState(listener: (s: SocketState) => void): () => void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: StudioError): void;
}

export function connectWebSocket(token: string | null): Promise<SocketConnection> {
  const listeners = new Map<ApiEvent, Set<(payload: unknown) => void>>();
  const stateListeners = new Set<(s: SocketState) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let ws: WebSocket;
  let retryMs = 500;

  const url = new URL(WEB_SOCKET_PATH, window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('token', token);

  const setState = (s: SocketState) => {
    for (const l of stateListeners) l(s);
  };

  const open = (onFirstOpen?: () => void, onFirstFail?: (e: StudioError) => void) => {
    setState('connecting');
    ws = new WebSocket(url);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      retryMs = 500;
      setState('open');
      onFirstOpen?.();
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      const msg = JSON.parse(e.data) as WireMessage;
      if (msg.type === 'result') {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.result.ok) p.resolve(msg.result.value);
        else p.reject(deserializeError(msg.result.error));
      } else {
        for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
      }
    };
    ws.onclose = () => {
      setState('closed');
      const lost = new StudioError('INTERNAL', 'Lost the connection to the studio. Is it still running?');
      for (const p of pending.values()) p.reject(lost);
      pending.clear();
      if (!opened && onFirstFail) {
        onFirstFail(new StudioError('UNAUTHORIZED', 'Could not connect to the studio. Open the URL it printed when it started (it carries the access token).'));
        return;
      }
      setTimeout(() => open(), retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };

  const api: Record<string, unknown> = {};
  for (const method of API_METHODS) {
    api[method] = (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        if (ws.readyState !== WebSocket.OPEN) return reject(new StudioError('INTERNAL', 'Not connected to the studio right now.'));
        const id = nextId++;
        pending.set(id, { resolve, reject });
        const req: WireRequest = { id, method, args };
        ws.send(JSON.stringify(req));
      });
  }
  for (const event of API_EVENTS) {
    api[event] = (listener: (payload: unknown) => void) => {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    };
  }

  return new Promise((resolve, reject) => {
    open(
      () =>
        resolve({
          api: api as unknown as StudioApi,
          onState: (l) => {
            stateListeners.add(l);
            return () => stateListeners.delete(l);
          },
        }),
      reject,
    );
  });
}
