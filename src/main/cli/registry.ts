import type { CliCommand } from './command';

/** Every CLI command. Add one: write `commands/<name>.ts` exporting a CliCommand and list it here. */
export const COMMANDS: readonly CliCommand[] = [];
