import { parseArgs, type CliCommand } from '../command';
import { runVerify, verifyPassed } from '../../verify/run';

/** `verify <dir>`: run every reference case at or under <dir>; exit 1 if anything fails or is not implemented. */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'Compare the engine with reference cases (folders with files.json) at or under a folder',
  usage: 'verify <dir> [--kind <kind>]…',
  async run(args, io) {
    const p = parseArgs(args);
    const dir = p.positionals[0];
    if (!dir) {
      io.stderr(`Usage: npm run cli -- ${verifyCommand.usage}`);
      return 2;
    }
    const kinds = p.flags.get('kind');
    const started = Date.now();
    const r = await runVerify(dir, { log: io.stdout, kinds });
    const failed = r.comparisons.filter((c) => !c.pass).length + r.failures.length;
    io.stdout(
      `${verifyPassed(r) ? 'OK' : 'FAILED'}: ${r.cases.length} case(s), ${r.comparisons.length} comparison(s), ${failed} failure(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return verifyPassed(r) ? 0 : 1;
  },
};
