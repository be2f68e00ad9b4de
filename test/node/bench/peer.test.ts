import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, runBench } from '../../../bench/run';
import { quantPlanOption } from '../../../bench/suites/full-size-common';
import { parsePeerOutput, parsePeerShape, peerCommand, peerDir, peerShapes } from '../../../bench/suites/peer';

describe('bench peer suite plumbing', () => {
  it('takes --peer-dir and repeated --peer-shape as values, not as suite names', () => {
    const a = parseBenchArgs(['peer', '--peer-dir', '/opt/peer', '--peer-shape', '1x16x32', '--peer-shape', '2x16x48', '--runs', '4']);
    expect(a.suites).toEqual(['peer']);
    expect(a.options).toEqual({ 'peer-dir': '/opt/peer', 'peer-shape': '1x16x32,2x16x48' });
    expect(a.runs).toBe(4);
    expect(() => parseBenchArgs(['peer', '--peer-dir'])).toThrow(/--peer-dir needs a value/);
  });

  it('takes --precision as a value and runs the studio in fp32 unless int8 is asked for', () => {
    const a = parseBenchArgs(['peer', '--peer-dir', '/p', '--precision', 'int8', 'precision']);
    expect(a.suites).toEqual(['peer', 'precision']);
    expect(quantPlanOption(a)).toBe('int8');
    expect(quantPlanOption(parseBenchArgs(['peer']))).toBe('float');
    expect(quantPlanOption(parseBenchArgs(['peer', '--precision', 'fp32']))).toBe('float');
    expect(() => quantPlanOption(parseBenchArgs(['peer', '--precision', 'bf16']))).toThrow(/fp32 or int8/);
  });

  it('finds the peer by flag, then PEER_DIR, and assumes no folder outside the project', () => {
    expect(peerDir({ options: { 'peer-dir': '/a/b' } }, { PEER_DIR: '/c' })).toBe('/a/b');
    expect(peerDir({ options: {} }, { PEER_DIR: '/c' })).toBe('/c');
    expect(peerDir({ options: {} }, {})).toBeUndefined();
  });

  it('runs 1 × 16 × 32² by default, adds 2 × 16 × 64² with --full, and takes explicit shapes', () => {
    expect(peerShapes({ options: {}, full: false }).map((s) => [s.batch, s.frames, s.latentHeight])).toEqual([[1, 16, 32]]);
    expect(peerShapes({ options: {}, full: true }).map((s) => [s.batch, s.frames, s.latentHeight])).toEqual([[1, 16, 32], [2, 16, 64]]);
    expect(peerShapes({ options: { 'peer-shape': '2x8x48' }, full: true }).map((s) => [s.batch, s.frames, s.latentWidth])).toEqual([[2, 8, 48]]);
    expect(() => parsePeerShape('16x32')).toThrow(/BATCHxFRAMESxLATENT/);
    const c = peerCommand('/p', parsePeerShape('2x16x64'), 'py');
    expect(c).toEqual({ cmd: 'py', args: ['/p/bench_diffusers.py', '--batch', '2', '--frames', '16', '--latent', '64', '--runs', '1'] });
  });

  it("reads the peer's JSON line and refuses output without one", () => {
    const out = 'loading…\n{"peer": "diffusers UNetMotionModel fp32 CPU", "torch": "1.13.1", "threads": 2, "batch": 1, "frames": 16, "latent": 32, "median_s": 28.3, "all_s": [28.3], "peak_rss_gb": 12.5}\n';
    const r = parsePeerOutput(out);
    expect([r.median_s, r.peak_rss_gb, r.torch]).toEqual([28.3, 12.5, '1.13.1']);
    expect(() => parsePeerOutput('Traceback …\n')).toThrow(/no result line/);
  });

  it('says how to point at the peer when its folder is missing', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'peer-test-'));
    try {
      const report = await runBench({ ...parseBenchArgs(['peer', '--peer-dir', join(scratch, 'nowhere')]), scratch }, () => {});
      expect(report.suites[0].error).toMatch(/not at .*nowhere .*--peer-dir DIR or PEER_DIR=DIR/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
