import { main } from '../../src/main/cli';

/** Runs `npm run cli -- …` in this process (no tsx start-up per call), capturing what it writes. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((t: string) => (out.push(String(t)), true)) as typeof process.stdout.write;
  process.stderr.write = ((t: string) => (err.push(String(t)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
