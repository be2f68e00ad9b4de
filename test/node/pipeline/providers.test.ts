import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireModels, generate, releaseModels, runnableProviders } from '../../../src/main/engine/generate';
import { AUTO_PROVIDERS, DEFAULT_PARAMS, type GenerationParams } from '../../../src/shared/domain/generation';
import { webgpuAvailable } from '../webgpu-device';

/**
 * Provider order and precision on a real generation (the starter model, tiny): the automatic order takes the
 * fastest provider that starts (why the others were skipped is the status bar's, not each job's); a provider chosen
 * explicitly that does not start is a note on the job; the precision follows the device and is in the job's notes
 * and the result.
 */

const gpu = await webgpuAvailable();
const root = mkdtempSync(join(tmpdir(), 'providers-'));
afterAll(async () => {
  await releaseModels();
  rmSync(root, { recursive: true, force: true });
});

const TINY: GenerationParams = { ...DEFAULT_PARAMS, prompt: 'a kite', width: 64, height: 64, frames: 2, steps: 1, guidance: 1, seed: 3 };

async function run(params: GenerationParams, name: string): Promise<{ notes: string[]; ranOn: unknown }> {
  const notes: string[] = [];
  const r = await generate({ params, outDir: join(root, name), cacheRoot: join(root, 'cache') }, { onProgress: (e) => e.message && notes.push(e.message) });
  return { notes, ranOn: r.ranOn };
}

describe('provider order and precision', () => {
  it('defaults to the automatic order: CUDA, DirectML, WebGPU, CPU', () => {
    expect(DEFAULT_PARAMS.providers).toEqual(AUTO_PROVIDERS);
    expect(AUTO_PROVIDERS).toEqual(['cuda', 'dml', 'webgpu', 'cpu']);
  });

  it('skips each provider that does not start (or is a software GPU) and runs fp32 on the CPU; the job notes say only where it ran', async () => {
    const { notes, ranOn } = await run(TINY, 'auto');
    expect(ranOn).toEqual({ provider: 'cpu', precision: 'float32', fp32Reruns: [] });
    expect(notes).toContain('Precision: fp32 on CPU.');
    // Why CUDA, DirectML or a software WebGPU were passed over is about the machine, not the job: the status bar
    // lists it once (engine info: unusable providers with their reasons, a software adapter marked as such).
    expect(notes.filter((n) => /instead\.$/.test(n))).toEqual([]);
  });

  it('says why a provider chosen explicitly did not start, in that job\'s notes', async () => {
    const explicit: string[] = [];
    const { providers } = await runnableProviders(['cuda', 'cpu'], (n) => explicit.push(n));
    expect(providers).toEqual(['cpu']);
    // CUDA's libraries are not installed here.
    expect(explicit).toEqual([expect.stringMatching(/^CUDA .*Running on CPU instead\.$/)]);
    const auto: string[] = [];
    await runnableProviders(AUTO_PROVIDERS, (n) => auto.push(n));
    expect(auto).toEqual([]);
  });

  // The models are only set up here: a generation on SwiftShader takes minutes (test:gpu runs the pipeline there).
  it.skipIf(!gpu.usable)(`chosen explicitly, WebGPU is used even on a software adapter, in fp32 without shader-f16 ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, async () => {
    const notes: string[] = [];
    const set = await acquireModels({ ...TINY, providers: ['webgpu'] }, join(root, 'cache'), undefined, (n) => notes.push(n));
    expect([set.providers, set.precision, set.attention.kind]).toEqual([['webgpu'], 'float32', 'chunked']);
    expect(notes).toEqual([expect.stringMatching(/^Precision: fp32 on WebGPU \(the WebGPU adapter \(SwiftShader .*\) has no shader-f16\)\.$/)]);
  });
});
