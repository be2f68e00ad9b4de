/** `--data-dir` from parsed CLI arguments; the folder itself is decided by src/main/data-dir.ts. */
import { resolveDataDir } from '../data-dir';
import { flag, type ParsedArgs } from './command';

export function dataDirFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): string {
  return resolveDataDir(flag(args, 'data-dir'), env);
}
