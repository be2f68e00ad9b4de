// Lint rules, including the process boundaries: the folder says where code runs (docs/ARCHITECTURE.md).
// Each source file falls into exactly one area below, so each area's import rule is complete on its own.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'stream', 'events', 'util', 'zlib', 'http', 'net', 'readline'];
const react = ['react', 'react-dom', 'react/*', 'react-dom/*'];
const ort = ['onnxruntime-node', 'onnxruntime-common'];
const p = (group, message) => ({ group, message });

const rules = {
  shared: [
    p(nodeBuiltins, 'src/shared runs anywhere: no Node built-ins.'),
    p(['electron', ...ort, 'better-sqlite3', ...react, 'ws', 'ffmpeg-static'], 'src/shared holds only the contract and pure domain code.'),
    p(['**/main/**', '**/renderer/**', '**/preload/**'], 'src/shared imports nothing outside src/shared.'),
  ],
  renderer: [
    p(nodeBuiltins, 'The renderer is a browser page: no Node built-ins.'),
    p(['electron', ...ort, 'better-sqlite3', 'ws', 'ffmpeg-static'], 'The renderer reaches the engine only through the StudioApi.'),
    p(['**/main/**', '**/preload/**'], 'The renderer imports only src/renderer and src/shared.'),
  ],
  preload: [
    p([...ort, 'better-sqlite3', ...react, 'ws', 'ffmpeg-static'], 'The preload is a bridge only.'),
    p(['**/main/**', '**/renderer/**'], 'The preload imports only src/shared and electron.'),
  ],
  electronMain: [
    p(react, 'React belongs to the renderer.'),
    p(['**/renderer/**', '**/preload/**'], 'main never imports renderer or preload code.'),
    p(ort, 'Only src/main/engine/runtime imports onnxruntime.'),
  ],
  runtime: [
    p(['electron'], 'The engine never imports Electron.'),
    p(['better-sqlite3', '**/store/**', '**/services/**'], 'The engine never imports the store or services.'),
    p(['**/export/**'], 'The engine never imports export (shared file formats are src/main/formats).'),
    p(react, 'React belongs to the renderer.'),
  ],
  compiler: [
    p(['electron'], 'The engine and compiler never import Electron.'),
    p(['better-sqlite3', '**/store/**', '**/services/**'], 'The engine and compiler never import the store or services.'),
    p(react, 'React belongs to the renderer.'),
    p(ort, 'Only src/main/engine/runtime imports onnxruntime (one place owns providers and dtypes).'),
    p(['**/engine/**', '**/export/**', '**/formats/**'], 'The compiler turns weights into ONNX and never imports the engine that runs them (no import cycle).'),
  ],
  engine: [
    p(['electron'], 'The engine and compiler never import Electron.'),
    p(['better-sqlite3', '**/store/**', '**/services/**'], 'The engine and compiler never import the store or services.'),
    p(react, 'React belongs to the renderer.'),
    p(ort, 'Only src/main/engine/runtime imports onnxruntime (one place owns providers and dtypes).'),
    p(['**/export/**'], 'The engine never imports export (shared file formats are src/main/formats).'),
  ],
  formats: [
    p(['electron', ...ort, 'better-sqlite3', ...react, 'ws', 'ffmpeg-static'], 'src/main/formats is plain file formats: Node and src/shared only.'),
    p(['**/engine/**', '**/compiler/**', '**/export/**', '**/services/**', '**/store/**', '**/cli/**', '**/verify/**', '**/web/**', '**/electron/**'], 'src/main/formats imports only src/shared (the engine and export both use it).'),
  ],
  main: [
    p(['electron'], 'Only src/main/electron and src/preload import electron.'),
    p(react, 'React belongs to the renderer.'),
    p(['**/renderer/**', '**/preload/**'], 'main never imports renderer or preload code.'),
    p(ort, 'Only src/main/engine/runtime imports onnxruntime (one place owns providers and dtypes).'),
  ],
};
const area = (files, ignores, patterns) => ({ files, ignores, rules: { 'no-restricted-imports': ['error', { patterns }] } });

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'test-results/**', 'playwright-report/**', '.cache/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  area(['src/shared/**'], [], rules.shared),
  area(['src/renderer/**'], [], rules.renderer),
  area(['src/preload/**'], [], rules.preload),
  area(['src/main/electron/**'], [], rules.electronMain),
  area(['src/main/engine/runtime/**'], [], rules.runtime),
  area(['src/main/compiler/**'], [], rules.compiler),
  area(['src/main/engine/**'], ['src/main/engine/runtime/**'], rules.engine),
  area(['src/main/formats/**'], [], rules.formats),
  area(['src/main/**'], ['src/main/electron/**', 'src/main/compiler/**', 'src/main/engine/**', 'src/main/formats/**'], rules.main),
);
