/**
 * The memory estimate (engine/memory/estimate.ts) against the real thing: the starter model generates at several
 * sizes, each in a fresh engine worker (a child process, as the studio runs it), and the worker's peak RSS
 * (/proc/<pid>/status VmHWM, read after the job) must be within ±25 % of the estimate. Graphs are compiled
 * beforehand, so each worker measures a generation as a creator's second run does.
 */
import { convPlanFor } from '../../../src/main/compiler/graph/conv-plan';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import type { GenerateJobParams, GenerateJobResult } from '../../../src/main/engine/generate-job';
import { estimateGeneration, generationShapes, type GenerationSize } from '../../../src/main/engine/memory/estimate';
import { MEMORY_LIMIT_ENV } from '../../../src/main/engine/memory/machine';
import { GraphCompiler } from '../../../src/main/engine/models/graph-compiler';
import { starterSource } from '../../../src/main/engine/models/model-source';
import { DEFAULT_LORA_RANK } from '../../../src/main/engine/models/lora-feeds';
import { EngineHost } from '../../../src/main/services/engine-host';

/**
 * `limitGb` caps the worker's memory (ANIMATELCM_MEMORY_LIMIT_GB) so that the guard must pick another way: at
 * 0.8 GB (648 MiB usable) only the guidance halves as two calls under the sample-chunk plan fit (estimates 1781 /
 * 1133 / 727 / 633 MiB for batched, separate, batched chunked, separate chunked, with the CPU's winograd UNet and
 * VAE); the cache holds only that graph, so `compiled: []` proves the generation ran it.
 */
const SIZES: Array<{ width: number; height: number; frames: number; guidance: number; limitGb?: number; way?: Pick<GenerationSize, 'guidanceCalls' | 'sampleChunks'>; int8?: true }> = [
  { width: 256, height: 256, frames: 8, guidance: 1.5 },
  { width: 512, height: 512, frames: 8, guidance: 1.5 },
  { width: 1024, height: 1024, frames: 1, guidance: 1 }, // mostly the VAE decoder's arena
  { width: 512, height: 512, frames: 16, guidance: 1.5, limitGb: 0.8, way: { guidanceCalls: 'separate', sampleChunks: true } },
  // The int8 plan: int8 weights, uint8 im2col buffers in the arena (compiler/graph/quant-plan.ts).
  { width: 512, height: 512, frames: 8, guidance: 1.5, int8: true },
];

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'memory-estimate-'));
  const source = starterSource();
  for (const quant of ['float', 'int8'] as const) {
    const compiler = new GraphCompiler(join(root, 'cache'), source, { precision: 'float32', groupnorm: 'per_frame', loraRank: DEFAULT_LORA_RANK, quant, conv: convPlanFor('cpu') });
    for (const size of SIZES.filter((z) => (z.int8 ? 'int8' : 'float') === quant)) for (const shape of generationShapes(source, { ...size, ...size.way })) await compiler.compile({ shape }, undefined);
    await compiler.dispose();
  }
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function vmHWM(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmHWM');
  return Number(m[1]) * 1024;
}

describe.runIf(process.platform === 'linux')('memory estimate vs measured worker peak RSS (starter model, CPU)', () => {
  it.each(SIZES)('$width×$height × $frames frames, guidance $guidance, memory limit $limitGb GB, int8 $int8: within ±25 %', async ({ limitGb, way, int8, ...size }) => {
    if (limitGb !== undefined) process.env[MEMORY_LIMIT_ENV] = String(limitGb); // read by the worker the host starts
    const host = new EngineHost();
    try {
      const { pid } = await host.request('ping', {});
      const params: GenerationParams = { ...DEFAULT_PARAMS, prompt: 'a lighthouse on a cliff', steps: 1, seed: 3, ...size, ...(int8 ? { precision: 'int8' as const } : {}) };
      const job = host.runJob<GenerateJobResult>('generate', `mem-${size.width}-${size.frames}`, {
        params,
        outDir: join(root, `out-${size.width}-${size.frames}${int8 ? '-int8' : ''}`),
        cacheRoot: join(root, 'cache'),
      } satisfies GenerateJobParams);
      const r = await job.result;
      expect(r.compiled).toEqual([]); // a warm cache: the generation, not the compiler, is measured
      const measured = vmHWM(pid);
      const estimated = estimateGeneration(starterSource(), { ...size, ...way }, { precision: 'float32', gpu: false, quant: int8 ? 'int8' : 'float', conv: convPlanFor('cpu') }).host;
      const ratio = estimated / measured;
      console.log(`${size.width}×${size.height}×${size.frames} g${size.guidance}${int8 ? ' int8' : ''}: measured ${(measured / 2 ** 20).toFixed(0)} MiB, estimated ${(estimated / 2 ** 20).toFixed(0)} MiB (${((ratio - 1) * 100).toFixed(1)} %)`);
      expect(ratio).toBeGreaterThanOrEqual(0.75);
      expect(ratio).toBeLessThanOrEqual(1.25);
    } finally {
      delete process.env[MEMORY_LIMIT_ENV];
      await host.dispose();
    }
  }, 300_000);
});
