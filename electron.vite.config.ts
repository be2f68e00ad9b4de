/**
 * Builds the desktop app into out/: main (the Electron entry, the web-mode entry and the engine worker, as
 * separate entries of one build so they share code), preload (CommonJS: sandboxed preloads cannot be ES modules)
 * and the renderer (the same config web mode uses). Dependencies stay external — native modules
 * (better-sqlite3, onnxruntime-node) cannot be bundled — and no Electron binary is needed to build.
 */
import { defineConfig } from 'electron-vite';
import { fileURLToPath } from 'node:url';
import { rendererConfig } from './vite.web.config';

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: {
          index: src('main/electron/main.ts'),
          web: src('main/web/start.ts'),
          'engine-worker': src('main/engine/worker.ts'),
        },
        output: {
          entryFileNames: '[name].js',
          // Shared chunks beside the entries: the engine host finds engine-worker.js next to its own file.
          chunkFileNames: 'shared-[hash].js',
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: src('preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig,
});
