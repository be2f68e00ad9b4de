import { describe, expect, it } from 'vitest';
import { formatTable, figure, target } from '../../../bench/report';
import { measureMatMulRate } from '../../../bench/roofline';
import { parseBenchArgs, QUICK_SUITES, SUITES } from '../../../bench/run';

describe('bench runner plumbing', () => {
  it('parses suites, runs, --full, --json-out and pass-through flags', () => {
    const a = parseBenchArgs(['step', 'memory', '--runs', '5', '--full', '--json-out', 'x.json', '--no-session']);
    expect(a.suites).toEqual(['step', 'memory']);
    expect(a.runs).toBe(5);
    expect(a.full).toBe(true);
    expect(a.jsonOut).toBe('x.json');
    expect(a.flags.has('no-session')).toBe(true);
    expect(parseBenchArgs([]).suites).toEqual(QUICK_SUITES);
    expect(parseBenchArgs(['all']).suites).toEqual(Object.keys(SUITES));
    expect(() => parseBenchArgs(['nope'])).toThrow(/Unknown suite "nope"/);
    expect(() => parseBenchArgs(['--runs', '0'])).toThrow(/positive integer/);
  });

  it('summarises runs as median and min–max and judges targets', () => {
    const f = figure('s', 'call', 's', [3, 1, 2, 10]);
    expect([f.median, f.min, f.max]).toEqual([2.5, 1, 10]);
    expect(target('s', 't', '≤ 3', 3, '<=', '%', 2.9).pass).toBe(true);
    expect(target('s', 't', '≥ 50', 50, '>=', '%', 49.9).pass).toBe(false);
    expect(target('s', 't', '≤ 10', 10, '<=', 'GB', undefined).pass).toBeUndefined();
    const table = formatTable([{ suite: 's', figures: [f], targets: [target('s', 'rss', '≤ 10 GB', 10, '<=', 'GB', 12)], notes: ['measured twice'], seconds: 1 }]);
    expect(table).toMatch(/call\s+2\.50\s+1\.00–10\.0\s+s\s+4/);
    expect(table).toMatch(/FAIL\s+rss: 12\.0 GB/);
    expect(table).toMatch(/\[s\] measured twice/);
  });

  it('measures a MatMul rate through onnxruntime', async () => {
    const m = await measureMatMulRate({ runs: 2, size: 256, chain: 2 });
    expect(m.gmacPerS).toHaveLength(2);
    expect(m.macsPerRun).toBe(2 * 256 ** 3);
    expect(m.median).toBeGreaterThan(0.1);
  });
});
