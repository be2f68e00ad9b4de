import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { formatComparison } from './compare';
import { handlerFor } from './registry';
import { CPU_FP32, type Comparison, type KindHandler, type VerifyTarget } from './types';

/**
 * `verify` without the CLI: find every reference case at or under `root` (a folder holding files.json), run the
 * handler for its files.json `kind` — never guessing from folder names — and collect comparisons. A case whose
 * kind has no handler, whose handler throws, or which compares nothing is a failure: nothing is skipped silently.
 */

export interface VerifyOptions {
  /** Receives each printed line (PASS/FAIL …) as it happens. */
  log?: (line: string) => void;
  /** Only cases whose kind is listed (default: all). */
  kinds?: string[];
  /** Handlers to use instead of the registry (tests). */
  handlers?: readonly KindHandler[];
  /** Provider and precision of the model kinds (default CPU, fp32). */
  target?: VerifyTarget;
}

/**
 * fp16 acceptance: the fixtures' elementwise fp32 tolerance (1e-4) is below fp16's resolution (≈ 5e-4 relative
 * per operation), so an fp16 run is judged by relative L2 error instead; fp32 runs keep the CPU tolerance.
 */
export const FP16_MAX_REL_L2 = 1e-2;

/**
 * int8 acceptance (the UNet's Linear layers and convolutions as int8 products, graph/quant-plan.ts). 7-bit weights
 * and 8-bit per-tensor activations leave 1–2 % relative error per layer, and the fixture UNets (32-channel random
 * models) chain dozens. Measured rel_l2 of the UNet outputs: 5.5 % on the spatial UNet, 6.3–7.1 % with motion
 * modules, 4–9 % through the pipelines, 10–14.5 % for AnimateLCM-I2V (its image features pass through int8
 * convolutions too, and CFG amplifies the difference of the halves); of the decoded frames, 1.3–2.1 %. This bound
 * catches a wrong kernel, scale or layout (rel_l2 ≈ 1); it is not a quality claim — quality is measured at full
 * size by `npm run bench -- precision` (bench/README.md).
 */
export const INT8_MAX_REL_L2 = 0.25;

function judged(cmp: Comparison, target: VerifyTarget): Comparison {
  const limit = target.quant === 'int8' ? INT8_MAX_REL_L2 : target.precision === 'float16' ? FP16_MAX_REL_L2 : undefined;
  if (limit === undefined || cmp.pass || !(cmp.relL2 <= limit) || Number.isNaN(cmp.maxAbs)) return cmp;
  const label = target.quant === 'int8' ? 'int8' : 'fp16';
  return { ...cmp, pass: true, note: [cmp.note, `${label}: rel_l2 ≤ ${limit}`].filter(Boolean).join('; ') };
}

export interface VerifyResult {
  comparisons: Comparison[];
  /** One line per case-level failure (kind not implemented, handler error, nothing compared). */
  failures: string[];
  /** Cases run, by name. */
  cases: string[];
  /** Cases whose kind builds no graph: they ran on the host (CPU) whatever the target. */
  noGraph: string[];
}

export interface ReferenceCase {
  dir: string;
  name: string;
  kind: string;
  files: Record<string, unknown>;
}

/** Every folder at or under `root` with a files.json, sorted by path (a case may contain sub-cases). */
export function discoverCases(root: string): ReferenceCase[] {
  const abs = resolve(root);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`${root} is not a folder`);
  const found: ReferenceCase[] = [];
  const walk = (dir: string): void => {
    const fj = join(dir, 'files.json');
    if (existsSync(fj)) {
      let files: Record<string, unknown>;
      try {
        files = JSON.parse(readFileSync(fj, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        files = { kind: '', parseError: String(e) };
      }
      const rel = relative(abs, dir);
      found.push({ dir, name: rel === '' ? basename(abs) : rel.split('\\').join('/'), kind: typeof files.kind === 'string' ? files.kind : '', files });
    }
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
      .map((e) => e.name)
      .sort();
    for (const name of entries) walk(join(dir, name));
  };
  walk(abs);
  return found;
}

export async function runVerify(root: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const log = opts.log ?? (() => undefined);
  const target = opts.target ?? CPU_FP32;
  const result: VerifyResult = { comparisons: [], failures: [], cases: [], noGraph: [] };
  const cases = discoverCases(root).filter((c) => !opts.kinds || opts.kinds.includes(c.kind));
  if (cases.length === 0) {
    const line = `FAIL ${root} no reference cases (no files.json at or under this folder)`;
    result.failures.push(line);
    log(line);
    return result;
  }
  for (const c of cases) {
    result.cases.push(c.name);
    const handler = opts.handlers ? opts.handlers.find((h) => h.kind === c.kind) : handlerFor(c.kind);
    if (!handler) {
      const line = `FAIL ${c.name} kind=${c.kind || '(missing)'} not implemented`;
      result.failures.push(line);
      log(line);
      continue;
    }
    if (handler.noGraph) result.noGraph.push(c.name);
    const workDir = mkdtempSync(join(tmpdir(), 'verify-'));
    let count = 0;
    try {
      await handler.run({
        dir: c.dir,
        name: c.name,
        files: c.files,
        workDir,
        target,
        report: (reported) => {
          count++;
          const cmp = judged(reported, target);
          result.comparisons.push(cmp);
          log(formatComparison(cmp));
        },
      });
      if (count === 0) {
        const line = `FAIL ${c.name} kind=${c.kind} compared nothing`;
        result.failures.push(line);
        log(line);
      }
    } catch (e) {
      const line = `FAIL ${c.name} kind=${c.kind} error: ${e instanceof Error ? e.message : String(e)}`;
      result.failures.push(line);
      log(line);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  return result;
}

export function verifyPassed(r: VerifyResult): boolean {
  return r.failures.length === 0 && r.comparisons.every((c) => c.pass);
}

/**
 * The run's last line: counts, and where the cases ran. A target other than CPU fp32 is named ("on webgpu, fp32"),
 * but cases whose kind builds no graph are said to be "CPU (no graph)": they never touched the target.
 */
export function verifySummary(r: VerifyResult, target: VerifyTarget, seconds: number): string {
  const failed = r.comparisons.filter((c) => !c.pass).length + r.failures.length;
  const precision = target.quant === 'int8' ? 'int8' : target.precision === 'float16' ? 'fp16' : 'fp32';
  const onTarget = target.provider === 'cpu' && precision === 'fp32' ? '' : ` on ${target.provider}, ${precision}`;
  const graphCases = r.cases.length - r.noGraph.length;
  const where =
    onTarget === '' || r.noGraph.length === 0 ? onTarget : graphCases === 0 ? ' on CPU (no graph)' : `${onTarget}; CPU (no graph): ${r.noGraph.join(', ')}`;
  return `${verifyPassed(r) ? 'OK' : 'FAILED'}: ${r.cases.length} case(s), ${r.comparisons.length} comparison(s), ${failed} failure(s)${where} in ${seconds.toFixed(1)} s`;
}
