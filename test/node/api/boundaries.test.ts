/**
 * The process boundaries are enforced by tools, not review: these tests feed small snippets to the project's own
 * ESLint config (eslint.config.js) and TypeScript configs (tsconfig.{node,web}.json) and check that a wrong import
 * or a wrong environment's global is reported — and that the right one is not.
 */
import { ESLint } from 'eslint';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: repo });

async function importErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repo, filePath) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint boundaries (eslint.config.js)', () => {
  it.each([
    ['src/main/engine/pipelines/x.ts', "import 'electron';\n"],
    ['src/main/engine/runtime/x.ts', "import 'electron';\n"],
    ['src/main/compiler/x.ts', "import Database from 'better-sqlite3';\nvoid Database;\n"],
    ['src/main/engine/pipelines/x.ts', "import ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['src/main/services/x.ts', "import ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['src/main/services/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['src/main/web/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['src/renderer/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n"],
    ['src/renderer/x.ts', "import { ipcRenderer } from 'electron';\nvoid ipcRenderer;\n"],
    ['src/renderer/x.ts', "import { StudioServices } from '../main/services/studio-services';\nvoid StudioServices;\n"],
    ['src/shared/x.ts', "import { join } from 'path';\nvoid join;\n"],
    ['src/shared/x.ts', "import React from 'react';\nvoid React;\n"],
    ['src/main/x.ts', "import React from 'react';\nvoid React;\n"],
    ['src/main/electron/x.ts', "import { useState } from 'react';\nvoid useState;\n"],
    ['src/preload/x.ts', "import Database from 'better-sqlite3';\nvoid Database;\n"],
    // no import cycles between the compiler, the engine and export
    ['src/main/compiler/families/x.ts', "import { lowRankFeeds } from '../../engine/lora/lowrank-feeds';\nvoid lowRankFeeds;\n"],
    ['src/main/compiler/x.ts', "import type { HostTensor } from '../engine/runtime/session';\nexport type T = HostTensor;\n"],
    ['src/main/engine/x.ts', "import { exportClip } from '../export/exporter';\nvoid exportClip;\n"],
    ['src/main/engine/runtime/x.ts', "import { exportClip } from '../../export/exporter';\nvoid exportClip;\n"],
    ['src/main/formats/x.ts', "import { exportClip } from '../export/exporter';\nvoid exportClip;\n"],
  ])('%s: reports %s', async (file, code) => {
    expect(await importErrors(file, code)).not.toEqual([]);
  });

  it.each([
    ['src/main/electron/x.ts', "import { app } from 'electron';\nvoid app;\n"],
    ['src/preload/x.ts', "import { contextBridge } from 'electron';\nvoid contextBridge;\n"],
    ['src/main/engine/runtime/x.ts', "import ort from 'onnxruntime-node';\nvoid ort;\n"],
    ['src/renderer/x.ts', "import { useState } from 'react';\nvoid useState;\n"],
    ['src/main/services/x.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n"],
    ['src/main/engine/x.ts', "import { encodePng } from '../formats/png';\nvoid encodePng;\n"],
    ['src/main/export/x.ts', "import { encodePng } from '../formats/png';\nvoid encodePng;\n"],
    ['src/main/engine/x.ts', "import { buildUNetGraph } from '../compiler/families/unet';\nvoid buildUNetGraph;\n"],
  ])('%s: allows %s', async (file, code) => {
    expect(await importErrors(file, code)).toEqual([]);
  });
});

/** Relative imports of every .ts file under `dir`, resolved to repository paths. */
function importsUnder(dir: string): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (const f of readdirSync(join(repo, dir), { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts')) continue;
    const file = join(repo, dir, f);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']*)'/g)) {
      out.push({ from: relative(repo, file), to: relative(repo, resolve(dirname(file), m[1])) });
    }
  }
  return out;
}

describe('no import cycles between layers (the real source tree)', () => {
  it('the compiler imports nothing from the engine, export or formats', () => {
    const all = importsUnder('src/main/compiler');
    expect(all.length).toBeGreaterThan(50); // the scan sees the compiler's imports
    expect(all.filter((i) => /^src\/main\/(engine|export|formats)\//.test(i.to))).toEqual([]);
  });

  it('the engine imports nothing from export (frames are written through src/main/formats)', () => {
    const all = importsUnder('src/main/engine');
    expect(all.some((i) => i.to.startsWith('src/main/formats/'))).toBe(true);
    expect(all.filter((i) => i.to.startsWith('src/main/export/'))).toEqual([]);
  });

  it('formats imports only src/shared and itself', () => {
    expect(importsUnder('src/main/formats').filter((i) => !/^src\/(shared|main\/formats)\//.test(i.to))).toEqual([]);
  });
});

describe('a tsconfig per environment', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** Type-checks one snippet under a project that extends the real tsconfig. Returns the diagnostics' codes. */
  function check(tsconfig: string, code: string): number[] {
    const dir = mkdtempSync(join(tmpdir(), 'animatelcm-tsc-'));
    dirs.push(dir);
    const file = join(dir, 'snippet.ts');
    writeFileSync(file, code);
    const config = {
      extends: join(repo, tsconfig),
      // Resolve @types from the repository although the snippet lives in a temporary folder.
      compilerOptions: { typeRoots: [join(repo, 'node_modules', '@types')] },
      files: [file],
      include: [],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
    const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    if (!parsed) throw new Error('could not parse the snippet tsconfig');
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
    return ts.getPreEmitDiagnostics(program).map((d) => d.code);
  }

  // 2304/2584: cannot find name; 2580: cannot find name 'process' (install @types/node); 2591: ditto for require/Buffer.
  it('refuses DOM globals in main code (tsconfig.node.json)', () => {
    const codes = check('tsconfig.node.json', 'export const title: string = document.title;\n');
    expect(codes.some((c) => c === 2304 || c === 2584)).toBe(true);
  });

  it('refuses Node globals in renderer code (tsconfig.web.json)', () => {
    const codes = check('tsconfig.web.json', 'export const home = process.env.HOME;\n');
    expect(codes.some((c) => c === 2580 || c === 2591 || c === 2304)).toBe(true);
  });

  it('refuses Node globals in shared code (tsconfig.shared.json)', () => {
    const codes = check('tsconfig.shared.json', 'export const b = Buffer.from("x");\n');
    expect(codes.length).toBeGreaterThan(0);
  });

  it('accepts each environment’s own globals', () => {
    expect(check('tsconfig.node.json', 'export const home = process.env.HOME;\n')).toEqual([]);
    expect(check('tsconfig.web.json', 'export const title: string = document.title;\n')).toEqual([]);
  });
});
