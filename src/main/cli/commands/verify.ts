import type { ProviderName } from '../../../shared/domain/generation';
import { flag, parseArgs, type CliCommand } from '../command';
import { runVerify, verifyPassed, verifySummary } from '../../verify/run';
import type { VerifyTarget } from '../../verify/types';

const PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'];
const PRECISIONS: Record<string, Pick<VerifyTarget, 'precision' | 'quant'>> = { fp32: { precision: 'float32' }, fp16: { precision: 'float16' }, int8: { precision: 'float32', quant: 'int8' } };

/**
 * `verify <dir>`: run every reference case at or under <dir>; exit 1 if anything fails or is not implemented.
 * `--provider` runs the model kinds on that execution provider only (no fallback), with the graphs the compiler
 * makes for it; `--precision` defaults to fp32 (the CPU tolerance), fp16 is judged by relative L2, and int8 (the
 * UNet's Linear and conv layers as int8 products on the CPU: the labelled faster precision) by a looser relative L2.
 */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'Compare the engine with reference cases (folders with files.json) at or under a folder',
  usage: 'verify <dir> [--kind <kind>]… [--provider cpu|cuda|dml|coreml|webgpu] [--precision fp32|fp16|int8]',
  async run(args, io) {
    const p = parseArgs(args);
    const dir = p.positionals[0];
    const provider = flag(p, 'provider') ?? 'cpu';
    const precision = PRECISIONS[flag(p, 'precision') ?? 'fp32'];
    const int8Elsewhere = precision?.quant === 'int8' && provider !== 'cpu';
    if (!dir || !PROVIDERS.includes(provider as ProviderName) || !precision || int8Elsewhere) {
      if (dir && !PROVIDERS.includes(provider as ProviderName)) io.stderr(`--provider must be one of ${PROVIDERS.join(', ')} (got "${provider}").`);
      if (dir && !precision) io.stderr(`--precision must be fp32, fp16 or int8 (got "${flag(p, 'precision')}").`);
      if (dir && int8Elsewhere) io.stderr(`--precision int8 is a CPU option (onnxruntime's int8 products run on the CPU provider); got --provider ${provider}.`);
      io.stderr(`Usage: npm run cli -- ${verifyCommand.usage}`);
      return 2;
    }
    const target: VerifyTarget = { provider: provider as ProviderName, ...precision };
    const kinds = p.flags.get('kind');
    const started = Date.now();
    const r = await runVerify(dir, { log: io.stdout, kinds, target });
    io.stdout(verifySummary(r, target, (Date.now() - started) / 1000));
    return verifyPassed(r) ? 0 : 1;
  },
};
