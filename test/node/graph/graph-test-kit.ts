import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { GraphIR } from '../../../src/main/compiler/graph/builder';
import { emitModel } from '../../../src/main/compiler/graph/emit';
import { createSession, type HostTensor } from '../../../src/main/engine/runtime/session';
import { handlerFor } from '../../../src/main/verify/registry';
import type { Comparison, VerifyTarget } from '../../../src/main/verify/types';
import { REF } from './motion-unet-fixture';

/** Scratch folders for one test file, removed after it: call at the file's top level. */
export function scratchFolders(prefix: string): () => string {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** Emits `graph` into `dir`, runs it once on the CPU with input `x`, returns output `y`. */
export async function runXY(graph: GraphIR, x: HostTensor, dir: string): Promise<Float32Array> {
  const { modelPath } = emitModel(graph, { dir, modelFile: 'm.onnx' });
  const s = await createSession(modelPath, { providers: ['cpu'] });
  try {
    return (await s.run({ x })).y.data as Float32Array;
  } finally {
    await s.dispose();
  }
}

/** Runs one reference fixture folder's verify handler on `target` and returns its comparisons. */
export async function verifyFixture(folder: string, target: VerifyTarget, workDir: string): Promise<Comparison[]> {
  const dir = join(REF, folder);
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>;
  const handler = handlerFor(String(files.kind));
  if (!handler) throw new Error(`${folder}: no verify kind "${String(files.kind)}"`);
  const got: Comparison[] = [];
  await handler.run({ dir, name: folder, files, workDir, target, report: (c) => got.push(c) });
  return got;
}
