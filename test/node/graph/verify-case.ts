import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handlerFor } from '../../../src/main/verify/registry';
import type { Comparison, VerifyTarget } from '../../../src/main/verify/types';
import { REF } from './motion-unet-fixture';

/** Runs one reference fixture folder's verify kind against `target` (the conv plans' tests hold both forms to it). */
export async function verifyCase(folder: string, target: VerifyTarget, workDir: string): Promise<Comparison[]> {
  const dir = join(REF, folder);
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>;
  const handler = handlerFor(String(files.kind));
  if (!handler) throw new Error(`${folder}: no verify kind "${String(files.kind)}"`);
  const got: Comparison[] = [];
  await handler.run({ dir, name: folder, files, workDir, target, report: (c) => got.push(c) });
  return got;
}
