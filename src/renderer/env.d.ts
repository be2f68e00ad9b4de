import type { StudioBridge } from '../shared/api';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in web mode. */
    readonly studio?: StudioBridge;
  }
}

export {};
