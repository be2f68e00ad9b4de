import type { CliCommand } from './command';
import { tokenizeCommand } from './commands/tokenize';
import { verifyCommand } from './commands/verify';
import { historyCommand } from './commands/history';
import { libraryCommand } from './commands/library';
import { exportCommand } from './commands/export';
import { importParamsCommand } from './commands/import-params';
import { inspectCommand } from './commands/inspect';
import { generateCommand } from './commands/generate';

/** Every CLI command. Add one: write `commands/<name>.ts` exporting a CliCommand and list it here. */
export const COMMANDS: readonly CliCommand[] = [
  verifyCommand,
  historyCommand,
  libraryCommand,
  exportCommand,
  importParamsCommand,
  inspectCommand,
  tokenizeCommand,
  generateCommand,
];
