/**
 * The renderer's build, shared by both shells: electron-vite uses `rendererConfig` for the desktop app
 * (electron.vite.config.ts), and `npm run build:web` builds the very same bundle into the same folder
 * (out/renderer) for web mode without building main and preload.
 */
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { RENDERER_CSP } from './src/shared/csp';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The page's own CSP (src/shared/csp.ts) goes into the HTML so it holds in every shell. Only the production build
 * gets it: the dev server injects inline scripts for hot reload.
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'animatelcm:csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: RENDERER_CSP }, injectTo: 'head-prepend' }],
  };
}

export const rendererConfig: UserConfig = {
  root: `${root}src/renderer`,
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: `${root}out/renderer`,
    emptyOutDir: true,
    // Electron 45 ships Chromium 140; Debian's Chromium is newer.
    target: 'chrome130',
    sourcemap: true,
  },
};

export default defineConfig(rendererConfig);
