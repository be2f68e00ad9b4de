/**
 * Pieces of the Electron transport that run without Electron: the IPC sender rule (with plain objects standing in
 * for Electron's webContents and frames, as the binary cannot run here — test/electron covers the real thing) and
 * the renderer's bridge client, which turns the preload's result envelopes back into values and StudioErrors.
 */
import { describe, expect, it } from 'vitest';
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import { isTrustedSender, originOf } from '../../../src/main/electron/sender-check';
import { fromBridge } from '../../../src/renderer/api/bridge-client';
import { API_EVENTS, API_METHODS, type StudioBridge } from '../../../src/shared/api';
import { StudioError } from '../../../src/shared/errors';

describe('IPC sender check', () => {
  const mainFrame = { url: 'app://studio/index.html' };
  const contents = { mainFrame };
  const window = { isDestroyed: () => false, webContents: contents } as unknown as BrowserWindow;
  const event = (sender: unknown, senderFrame: unknown) => ({ sender, senderFrame }) as unknown as IpcMainInvokeEvent;
  const trusted = ['app://studio'];

  it('accepts the app window’s main frame on the app origin', () => {
    expect(isTrustedSender(event(contents, mainFrame), window, trusted)).toBe(true);
  });

  it('refuses other web contents, sub-frames, other origins and closed windows', () => {
    expect(isTrustedSender(event({ mainFrame }, mainFrame), window, trusted)).toBe(false);
    expect(isTrustedSender(event(contents, { url: 'app://studio/index.html' }), window, trusted)).toBe(false);
    expect(isTrustedSender(event(contents, null), window, trusted)).toBe(false);
    const navigated = { mainFrame: { url: 'https://evil.example/' } };
    const navigatedWindow = { isDestroyed: () => false, webContents: navigated } as unknown as BrowserWindow;
    expect(isTrustedSender(event(navigated, navigated.mainFrame), navigatedWindow, trusted)).toBe(false);
    const fileFrame = { mainFrame: { url: 'file:///etc/passwd' } };
    expect(isTrustedSender(event(fileFrame, fileFrame.mainFrame), { isDestroyed: () => false, webContents: fileFrame } as unknown as BrowserWindow, trusted)).toBe(false);
    const closed = { isDestroyed: () => true, webContents: contents } as unknown as BrowserWindow;
    expect(isTrustedSender(event(contents, mainFrame), closed, trusted)).toBe(false);
  });
});

describe('origins of the app’s own scheme', () => {
  it('are computed for schemes Node’s URL does not know', () => {
    expect(new URL('app://studio/index.html').origin).toBe('null'); // why originOf exists
    expect(originOf('app://studio/index.html#/history')).toBe('app://studio');
    expect(originOf('http://localhost:5173/')).toBe('http://localhost:5173');
    expect(originOf('file:///etc/passwd')).toBeNull();
    expect(originOf('not a url')).toBeNull();
  });
});

describe('renderer bridge client', () => {
  it('exposes every method and event, unwraps results and rethrows errors as StudioError', async () => {
    const calls: [string, unknown[]][] = [];
    const bridge: Record<string, unknown> = { mode: 'electron' };
    for (const m of API_METHODS)
      bridge[m] = async (...args: unknown[]) => {
        calls.push([m, args]);
        return m === 'getGeneration' ? { ok: false, error: { code: 'NOT_FOUND', message: 'No such clip.', details: { id: args[0] } } } : { ok: true, value: m };
      };
    const unsubscribe = () => {};
    for (const e of API_EVENTS) bridge[e] = () => unsubscribe;

    const api = fromBridge(bridge as unknown as StudioBridge);
    for (const m of API_METHODS) expect(typeof api[m], m).toBe('function');
    for (const e of API_EVENTS) expect(api[e](() => {})).toBe(unsubscribe);

    expect(await api.listTimelines()).toBe('listTimelines');
    const err = await api.getGeneration(42).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'No such clip.', details: { id: 42 } });
    expect(calls).toEqual([
      ['listTimelines', []],
      ['getGeneration', [42]],
    ]);
  });
});
