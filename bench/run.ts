/**
 * `npm run bench [-- <suite>…] [--runs N] [--full] [--json-out path] [--no-session]`
 *
 * Runs the named suites (default: the quick ones), prints a table of every figure (median, min–max, runs),
 * every target (PASS / FAIL / NOT MEASURED) and notes saying exactly what was measured, and writes the whole
 * report as JSON to bench/results/<timestamp>.json (or --json-out). See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANIMATELCM_MOTION, CLIP_L_TEXT, SD15_UNET, SD15_VAE } from '../src/main/compiler/families/configs';
import { machineInfo } from './machine';
import { BenchModels, randomModelSource, type ModelSource } from './model-set';
import { formatTable, type BenchReport, type SuiteResult } from './report';
import type { ConvPlan } from '../src/main/compiler/graph/conv-plan';
import { measureMatMulRate, type MatMulRate } from './roofline';
import type { Suite, SuiteContext } from './suite';
import { compileSuite } from './suites/compile';
import { controlnetSuite } from './suites/controlnet';
import { exportSuite } from './suites/export';
import { gpuSuite } from './suites/gpu';
import { loraSuite } from './suites/lora';
import { memorySuite } from './suites/memory';
import { pipelineSuite } from './suites/pipeline';
import { rooflineSuite } from './suites/roofline';
import { stepSuite } from './suites/step';
import { tinySuite } from './suites/tiny';
import { longClipSuite } from './suites/long-clip';
import { modesSuite } from './suites/modes';
import { peerSuite } from './suites/peer';
import { profileSuite } from './suites/profile';
import { guidanceSuite } from './suites/guidance';
import { memoryPlanSuite } from './suites/memory-plan';
import { chunkCostSuite } from './suites/chunk-cost';
import { precisionSuite } from './suites/precision';
import { convSuite } from './suites/conv';
import { vaeConvSuite } from './suites/vae-conv';

export const SUITES: Record<string, Suite> = {
  tiny: tinySuite,
  roofline: rooflineSuite,
  compile: compileSuite,
  step: stepSuite,
  memory: memorySuite,
  pipeline: pipelineSuite,
  lora: loraSuite,
  export: exportSuite,
  controlnet: controlnetSuite,
  'long-clip': longClipSuite,
  modes: modesSuite,
  gpu: gpuSuite,
  peer: peerSuite,
  profile: profileSuite,
  guidance: guidanceSuite,
  'memory-plan': memoryPlanSuite,
  'chunk-cost': chunkCostSuite,
  precision: precisionSuite,
  conv: convSuite,
  'vae-conv': vaeConvSuite,
};

/** Run when no suite is named: minutes, not hours, on a 2-core machine. */
export const QUICK_SUITES = ['tiny', 'roofline', 'export', 'long-clip'];

export interface BenchArgs {
  suites: string[];
  runs?: number;
  full: boolean;
  jsonOut?: string;
  scratch?: string;
  flags: Set<string>;
  /** Flags that take a value (VALUE_FLAGS), without their dashes: `--peer-dir DIR` → { 'peer-dir': DIR }. */
  options: Record<string, string>;
}

/** Flags followed by a value; every other `--x` is a boolean flag. */
export const VALUE_FLAGS = ['peer-dir', 'peer-shape', 'precision', 'conv'];

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const suites: string[] = [];
  const flags = new Set<string>();
  const options: Record<string, string> = {};
  let runs: number | undefined;
  let jsonOut: string | undefined;
  let scratch: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') {
      runs = Number(value());
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
    } else if (a === '--json-out') jsonOut = value();
    else if (a === '--scratch') scratch = value();
    else if (a === '--full') flags.add('full');
    else if (VALUE_FLAGS.includes(a.slice(2)) && a.startsWith('--')) options[a.slice(2)] = options[a.slice(2)] ? `${options[a.slice(2)]},${value()}` : value();
    else if (a.startsWith('--')) flags.add(a.slice(2));
    else if (a === 'all') suites.push(...Object.keys(SUITES));
    else if (SUITES[a]) suites.push(a);
    else throw new Error(`Unknown suite "${a}"; suites: ${Object.keys(SUITES).join(', ')}, all`);
  }
  return { suites: suites.length ? [...new Set(suites)] : QUICK_SUITES, runs, full: flags.has('full'), jsonOut, scratch, flags, options };
}

/** `onSuite` sees the report after every suite (the runner saves it, so a long run killed midway keeps its results). */
export async function runBench(args: BenchArgs, log: (line: string) => void = console.log, onSuite?: (r: BenchReport) => void): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const scratch = mkdtempSync(join(args.scratch ?? tmpdir(), 'animatelcm-bench-'));
  let matmul: Promise<MatMulRate> | undefined;
  const full = new Map<string, BenchModels>();
  let source: ModelSource | undefined;
  const ctx: SuiteContext = {
    runs: args.runs,
    full: args.full,
    scratch,
    log,
    flags: args.flags,
    options: args.options,
    matmulRate: () => (matmul ??= measureMatMulRate({ runs: Math.max(3, args.runs ?? 3) })),
    // One cache root for every plan: the UNet entries differ by key, the text encoder and VAE are compiled once.
    fullSize: (quant = 'float', conv = convOption(args.options.conv)) => {
      const key = `${quant}/${conv ?? 'cpu'}`;
      let m = full.get(key);
      if (!m) full.set(key, (m = new BenchModels((source ??= randomModelSource('sd15-random', { unet: SD15_UNET, motion: ANIMATELCM_MOTION, vae: SD15_VAE, text: CLIP_L_TEXT })), join(scratch, 'sd15'), { provider: 'cpu', precision: 'float32', quant, ...(conv ? { conv } : {}) })));
      return m;
    },
  };
  const report: BenchReport = { startedAt, argv: process.argv.slice(2), machine: await machineInfo('cpu'), suites: [] };
  const cleanup = (): void => rmSync(scratch, { recursive: true, force: true });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    for (const name of args.suites) {
      log(`== ${name}`);
      const t0 = performance.now();
      let res: Omit<SuiteResult, 'seconds'>;
      try {
        res = await SUITES[name](ctx);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`  ERROR: ${msg}`);
        res = { suite: name, figures: [], targets: [], notes: [], error: msg.split('\n')[0] };
      }
      report.suites.push({ ...res, seconds: (performance.now() - t0) / 1000 });
      onSuite?.(report);
    }
  } finally {
    for (const m of full.values()) await m.dispose();
    cleanup();
  }
  return report;
}

/** `--conv direct|winograd`: the UNet's conv plan for the full-size suites (absent: the CPU's plan, as the studio runs). */
function convOption(v: string | undefined): ConvPlan | undefined {
  if (v === undefined) return undefined;
  if (v !== 'direct' && v !== 'winograd') throw new Error(`--conv must be direct or winograd, not "${v}"`);
  return v;
}

export function defaultJsonPath(startedAt: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, 'results', `${startedAt.replace(/[:.]/g, '-')}.json`);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  let out: string | undefined;
  const save = (r: BenchReport): void => {
    out ??= resolve(args.jsonOut ?? defaultJsonPath(r.startedAt));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(r, null, 2));
  };
  const report = await runBench(args, console.log, save);
  save(report);
  console.log('');
  console.log(`Machine: ${report.machine.cpuModel}, ${report.machine.cores} cores, ${report.machine.ramGiB} GiB RAM, ${report.machine.os}, Node ${report.machine.node}, onnxruntime ${report.machine.onnxruntime} (${report.machine.provider}); load average at start ${report.machine.loadAverage.join(' ')}`);
  console.log(formatTable(report.suites));
  console.log(`\nJSON: ${out}`);
  if (report.suites.some((s) => s.error)) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
