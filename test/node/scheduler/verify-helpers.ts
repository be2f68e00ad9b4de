import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CPU_FP32, type Comparison, type KindHandler } from '../../../src/main/verify/types';

/** Every folder under `root` whose files.json has the given kind (dispatch by kind, as verify does). */
export function casesOfKind(root: string, kind: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const fj = join(dir, 'files.json');
    if (existsSync(fj) && (JSON.parse(readFileSync(fj, 'utf8')) as { kind?: string }).kind === kind) out.push(dir);
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** Runs a handler on one case folder and returns what it reported. */
export async function runHandler(handler: KindHandler, root: string, dir: string): Promise<Comparison[]> {
  const results: Comparison[] = [];
  await handler.run({
    dir,
    name: relative(root, dir) || '.',
    files: JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>,
    workDir: '/tmp',
    target: CPU_FP32,
    report: (c) => results.push(c),
  });
  return results;
}
