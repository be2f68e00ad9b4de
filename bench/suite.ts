import type { MatMulRate } from './roofline';
import type { QuantPlan } from '../src/main/compiler/graph/quant-plan';
import type { ConvPlan } from '../src/main/compiler/graph/conv-plan';
import type { BenchModels } from './model-set';
import { figure, target, type Comparator, type Figure, type SuiteResult, type Target } from './report';

/** What every suite gets from the runner. */
export interface SuiteContext {
  /** --runs N when given; each suite picks its own default (3 where affordable, 1 for multi-minute work). */
  runs?: number;
  /** --full: run the expensive real-size variants (memory, pipeline). */
  full: boolean;
  /** Scratch folder for this bench process (removed at exit). */
  scratch: string;
  log: (line: string) => void;
  /** The machine's fp32 MatMul rate through onnxruntime, measured once per process. */
  matmulRate(): Promise<MatMulRate>;
  /**
   * Full-size SD1.5 + AnimateLCM-motion models with random weights, compiled lazily, shared by the suites; one set
   * per Linear plan (`'int8'`: the labelled int8 UNet, its own cache entry; same weights, same text encoder and VAE)
   * and conv plan (absent: `--conv` when given, else the CPU's plan, as the studio runs).
   */
  fullSize(quant?: QuantPlan, conv?: ConvPlan): BenchModels;
  /** Extra flags given to the runner (e.g. --no-session for lora). */
  flags: Set<string>;
  /** Flags with a value (`--peer-dir DIR`); a repeated one is joined with commas. */
  options: Record<string, string>;
}

export type Suite = (ctx: SuiteContext) => Promise<Omit<SuiteResult, 'seconds'>>;

/** Collects one suite's figures, targets and notes. */
export class Recorder {
  readonly figures: Figure[] = [];
  readonly targets: Target[] = [];
  readonly notes: string[] = [];
  constructor(
    readonly suite: string,
    private readonly log: (line: string) => void,
  ) {}

  fig(name: string, unit: string, values: number | readonly number[], note?: string): Figure {
    const f = figure(this.suite, name, unit, typeof values === 'number' ? [values] : values, note);
    this.figures.push(f);
    const spread = f.values.length > 1 ? ` [${f.min.toPrecision(4)}–${f.max.toPrecision(4)}, ${f.values.length} runs]` : '';
    this.log(`  ${name}: ${f.median.toPrecision(4)} ${unit}${spread}${note ? `  (${note})` : ''}`);
    return f;
  }

  target(name: string, goal: string, limit: number, comparator: Comparator, unit: string, measured: number | undefined, note?: string): Target {
    const t = target(this.suite, name, goal, limit, comparator, unit, measured, note);
    this.targets.push(t);
    this.log(`  target ${name}: ${t.pass === undefined ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'}`);
    return t;
  }

  note(text: string): void {
    this.notes.push(text);
    this.log(`  note: ${text}`);
  }

  result(): Omit<SuiteResult, 'seconds'> {
    return { suite: this.suite, figures: this.figures, targets: this.targets, notes: this.notes };
  }
}

export function runsOr(ctx: SuiteContext, fallback: number): number {
  return Math.max(1, ctx.runs ?? fallback);
}

export const secs = (ms: number): number => ms / 1000;
