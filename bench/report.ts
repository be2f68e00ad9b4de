/**
 * What a bench run produces: figures (a measured quantity with every run's value, summarised as median and
 * min–max), targets (a figure held against a limit, pass/fail or "not measured"), notes that say exactly what
 * was measured, and the machine it ran on. Printed as a table and written as JSON.
 */

export interface Figure {
  suite: string;
  name: string;
  unit: string;
  /** One value per run, in run order. */
  values: number[];
  median: number;
  min: number;
  max: number;
  note?: string;
}

export type Comparator = '<=' | '>=';

export interface Target {
  suite: string;
  name: string;
  /** The limit in words, e.g. "≥ 50 % of the measured MatMul rate". */
  goal: string;
  measured?: number;
  limit: number;
  comparator: Comparator;
  unit: string;
  /** undefined: not measured in this run (the note says why). */
  pass?: boolean;
  note?: string;
}

export interface SuiteResult {
  suite: string;
  figures: Figure[];
  targets: Target[];
  notes: string[];
  seconds: number;
  error?: string;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  provider: string;
  intraOpThreads: string;
  loadAverage: number[];
}

export interface BenchReport {
  startedAt: string;
  argv: string[];
  machine: MachineInfo;
  suites: SuiteResult[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function figure(suite: string, name: string, unit: string, values: readonly number[], note?: string): Figure {
  return { suite, name, unit, values: [...values], median: median(values), min: Math.min(...values), max: Math.max(...values), note };
}

export function target(
  suite: string,
  name: string,
  goal: string,
  limit: number,
  comparator: Comparator,
  unit: string,
  measured: number | undefined,
  note?: string,
): Target {
  const pass = measured === undefined || !Number.isFinite(measured) ? undefined : comparator === '<=' ? measured <= limit : measured >= limit;
  return { suite, name, goal, limit, comparator, unit, measured, pass, note };
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** A plain-text table of every figure (median, min–max, runs) and every target. */
export function formatTable(results: readonly SuiteResult[]): string {
  const rows: string[][] = [['suite', 'figure', 'median', 'min–max', 'unit', 'runs', 'note']];
  for (const r of results) {
    for (const f of r.figures) {
      const spread = f.values.length > 1 ? `${formatValue(f.min)}–${formatValue(f.max)}` : '';
      rows.push([r.suite, f.name, formatValue(f.median), spread, f.unit, String(f.values.length), f.note ?? '']);
    }
    if (r.error) rows.push([r.suite, 'ERROR', '', '', '', '', r.error]);
  }
  const widths = rows[0].map((_, c) => Math.min(c === 6 ? 0 : 60, Math.max(...rows.map((row) => row[c].length))));
  const lines = rows.map((row) => row.map((cell, c) => (c === 6 ? cell : pad(cell, widths[c]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(Math.max(w, 4))).join('  '));
  const targets = results.flatMap((r) => r.targets);
  if (targets.length > 0) {
    lines.push('', 'Targets:');
    for (const t of targets) {
      const verdict = t.pass === undefined ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL';
      const measured = t.measured === undefined ? '—' : `${formatValue(t.measured)} ${t.unit}`;
      lines.push(`  ${pad(verdict, 12)} ${t.name}: ${measured} (goal ${t.goal})${t.note ? ` — ${t.note}` : ''}`);
    }
  }
  const notes = results.flatMap((r) => r.notes.map((n) => `  [${r.suite}] ${n}`));
  if (notes.length > 0) lines.push('', 'Notes:', ...notes);
  return lines.join('\n');
}
