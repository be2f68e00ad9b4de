import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { windowFusionPlan, type ContextWindowSpec } from '../../../src/main/compiler/families/context-windows';
import { sinusoidalTable, windowedTemporalBlock } from '../../../src/main/compiler/families/motion';
import { GraphBuilder, type GraphIR } from '../../../src/main/compiler/graph/builder';
import { starterModel } from '../../../src/main/engine/starter/starter-model';
import { runGraphOnce } from '../../../src/main/verify/run-graph';

/**
 * Issue 17 item 6: the windowed motion block must not hold all windows at once (its memory grew with the window
 * count times the attention's working set), and running the windows a group at a time must not change a bit.
 * The block is the starter motion module's first transformer block (C = 32, 4 heads), run by onnxruntime.
 */

const PREFIX = 'down_blocks.0.motion_modules.0.transformer_blocks.0';
const C = 32;
const HEADS = 4;
const weights = starterModel().motion;
const work = mkdtempSync(join(tmpdir(), 'window-groups-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function blockGraph(rows: number, frames: number, spec: ContextWindowSpec, windowsPerGroup?: number): GraphIR {
  const plan = windowFusionPlan(frames, spec, windowsPerGroup);
  if (!plan) throw new Error('expected a window plan');
  const g = new GraphBuilder(`block_f${frames}_g${windowsPerGroup ?? 'default'}`);
  const x = g.input('x', 'float32', [rows, frames, C]);
  const pe = g.constFloat(sinusoidalTable(spec.length, C), [spec.length, C], 'pos_embed');
  g.output(windowedTemporalBlock(g, weights, PREFIX, x, [rows, frames, C], pe, HEADS, plan), 'y', 'float32', [rows, frames, C]);
  return g.build();
}

/** The largest number of frame positions one batch of windows gives the attentions (from the batch_windows Reshape). */
function largestWindowBatch(graph: GraphIR, rows: number, length: number): number {
  const shapes = new Map(graph.initializers.map((t) => [t.name, t]));
  const batches = graph.nodes.filter((n) => n.opType === 'Reshape' && /batch_windows/.test(n.name));
  expect(batches.length).toBeGreaterThan(0);
  return Math.max(
    ...batches.map((n) => {
      const src = shapes.get(n.inputs[1])?.source;
      if (src?.kind !== 'const') throw new Error(`no constant shape for ${n.name}`);
      return (Number(src.data[0]) / rows) * length;
    }),
  );
}

function input(rows: number, frames: number): Float32Array {
  return Float32Array.from({ length: rows * frames * C }, (_, i) => Math.sin(i * 0.7311) + 0.3 * Math.cos(i * 0.0171));
}

async function run(graph: GraphIR, rows: number, frames: number): Promise<Float32Array> {
  const out = await runGraphOnce(graph, work, { x: { type: 'float32', dims: [rows, frames, C], data: input(rows, frames) } });
  return out.y.data as Float32Array;
}

describe('windowed motion block: windows run a bounded group at a time', () => {
  const spec: ContextWindowSpec = { length: 16, stride: 4, weighting: 'pyramid', mode: 'studio' };

  it(`the attentions never see more than 64 frame positions at once, at 64 and at 256 frames`, () => {
    expect(largestWindowBatch(blockGraph(8, 64, spec), 8, 16)).toBeLessThanOrEqual(64);
    expect(largestWindowBatch(blockGraph(8, 256, spec), 8, 16)).toBeLessThanOrEqual(64);
  });

  const configs: Array<[string, number, ContextWindowSpec]> = [
    ['studio, tail window blended over all its frames', 37, { length: 8, stride: 3, weighting: 'pyramid', mode: 'studio' }],
    ['studio, odd-length sawtooth', 29, { length: 5, stride: 2, weighting: 'delayed_reverse_sawtooth', mode: 'studio' }],
    ['diffusers, the tail quirk', 37, { length: 8, stride: 3, weighting: 'flat', mode: 'diffusers' }],
    ['diffusers, stride above length (frames in no window)', 30, { length: 4, stride: 6, weighting: 'pyramid', mode: 'diffusers' }],
  ];
  for (const [label, frames, s] of configs) {
    it(`${label}: every grouping gives the all-windows result bit for bit`, async () => {
      const rows = 3;
      const all = await run(blockGraph(rows, frames, s, 1000), rows, frames);
      expect(all.every(Number.isFinite)).toBe(true);
      for (const perGroup of [1, 2, 3]) {
        const grouped = await run(blockGraph(rows, frames, s, perGroup), rows, frames);
        const differing = grouped.reduce((n, v, i) => n + (Object.is(v, all[i]) ? 0 : 1), 0);
        expect(differing, `${perGroup} window(s) per group`).toBe(0);
      }
    });
  }
});
