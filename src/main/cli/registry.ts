import type { CliCommand } from './command';
import { verifyCommand } from './commands/verify';

/** Every CLI command. Add one: write `commands/<name>.ts` exporting a CliCommand and list it here. */
export const COMMANDS: readonly CliCommand[] = [
  verifyCommand,
];
