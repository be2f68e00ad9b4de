/**
 * Headless entry: `npm run cli -- <command> [args]`. Runs from source through tsx (no build step).
 * Exit codes: 0 ok, 1 the command failed (its error printed), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { serializeError } from '../shared/errors';
import { COMMANDS } from './cli/registry';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  return [
    `AnimateLCM Studio ${version()} — command line`,
    '',
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options: --help (also per command: <command> --help), --version',
    'Every command that touches the studio data takes --data-dir <dir> (or ANIMATELCM_DATA_DIR).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: (t: string) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    stderr: (t: string) => void process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(version());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.stderr(`Unknown command "${name}".\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${cmd.summary}\n\nUsage: npm run cli -- ${cmd.usage}`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    const err = serializeError(e);
    if (rest.includes('--json')) io.stdout(JSON.stringify({ error: err }));
    else io.stderr(`Error [${err.code}]: ${err.message}`);
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`Unexpected error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
