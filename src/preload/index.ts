/**
 * The preload: exposes the StudioApi's named functions as `window.studio`, and nothing else. Never raw
 * ipcRenderer; event callbacks get the payload only, never the IPC event (which would hand the page `sender`).
 * Runs sandboxed, so it is bundled to one CommonJS file that requires only 'electron'.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { API_EVENTS, API_METHODS, IPC_EVENT_CHANNEL, ipcChannelFor, isApiEvent, type ApiEvent } from '../shared/api';

type AnyListener = (payload: unknown) => void;
const listeners = new Map<ApiEvent, Set<AnyListener>>(API_EVENTS.map((e) => [e, new Set<AnyListener>()]));

ipcRenderer.on(IPC_EVENT_CHANNEL, (_event, name: unknown, payload: unknown) => {
  if (!isApiEvent(name)) return;
  for (const listener of listeners.get(name) ?? []) listener(payload);
});

const bridge: Record<string, unknown> = { mode: 'electron' };

for (const method of API_METHODS) {
  const channel = ipcChannelFor(method);
  bridge[method] = (...args: unknown[]) => ipcRenderer.invoke(channel, ...args);
}

for (const event of API_EVENTS) {
  bridge[event] = (listener: unknown) => {
    if (typeof listener !== 'function') throw new TypeError(`${event} needs a function`);
    const set = listeners.get(event) as Set<AnyListener>;
    const wrapped: AnyListener = (payload) => (listener as AnyListener)(payload);
    set.add(wrapped);
    return () => void set.delete(wrapped);
  };
}

contextBridge.exposeInMainWorld('studio', Object.freeze(bridge));
