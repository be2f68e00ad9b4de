import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageFeatureName } from '../../src/main/compiler/families/image-encoder';
import { readNpyF32 } from '../../src/main/compiler/io/npy';
import { compareArrays } from '../../src/main/verify/compare';
import { openI2vFile, runImageEncoder } from '../../src/main/verify/kinds/i2v-adapter';
import { windowedBlockCases } from '../../src/main/verify/kinds/freenoise-components';
import { unfoldFrames } from '../../src/main/verify/kinds/unet-motion';
import type { Comparison, VerifyTarget } from '../../src/main/verify/types';
import { webgpuAvailable } from '../node/webgpu-device';

/**
 * test:gpu's checks of the graph families with WebGPU kernels of their own that the verify cases in
 * scripts/test-gpu.mjs do not reach cheaply: the AnimateLCM-I2V image encoder and the FreeNoise windowed motion
 * block (Gather of windows, batched attention, weighted Gather-sum). Each against the reference fixtures at the
 * CPU tolerance, fp32; the whole i2v_adapter and freenoise_components kinds also run UNets and stay in `--all`.
 */

const REF = join(__dirname, '../fixtures/reference');
const WEBGPU: VerifyTarget = { provider: 'webgpu', precision: 'float32' };
const gpu = await webgpuAvailable();
const workDir = mkdtempSync(join(tmpdir(), 'gpu-families-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe.skipIf(!gpu.usable)(`graph families on WebGPU ${gpu.usable ? '' : `(skipped: ${gpu.reason})`}`, () => {
  it('the AnimateLCM-I2V image encoder equals the authors\' Adapter (motion scale 0.8, custom insertion weights)', async () => {
    const dir = join(REF, 'animatelcm_i2v');
    const latent = readNpyF32(join(dir, 'img_latent.npy'));
    const frames = readNpyF32(join(dir, 'sample.npy')).shape[2];
    const i2v = openI2vFile(join(dir, 'animatelcm_i2v.safetensors'), 8, 8);
    // One run (a session per run costs seconds on SwiftShader); `--all` checks every motion scale.
    const runs: Array<[number, number[], string]> = [[0.8, [0.5, -1.25, 2, 0.75], 'iw']];
    try {
      for (const [motionScale, insertionWeights, tag] of runs) {
        const feats = await runImageEncoder(i2v.encoder, latent, { frames, levels: 4, motionScale, insertionWeights, workDir, target: WEBGPU });
        feats.forEach((f, i) => {
          const c = compareArrays('animatelcm_i2v', `${tag} ${imageFeatureName(i)}`, unfoldFrames(f.data as Float32Array, f.dims, frames), readNpyF32(join(dir, `adapter_features_${tag}_l${i}.npy`)).data);
          expect(c.pass, `${c.what}: max |Δ| ${c.maxAbs}`).toBe(true);
        });
      }
    } finally {
      i2v.close();
    }
  });

  it('the FreeNoise windowed motion block equals diffusers\' (overlapping pyramid windows; sawtooth weights with a tail window)', async () => {
    // Two of the kind's eight block cases: every op of the block, at two graphs' cost; `--all` runs all eight.
    const dir = join(REF, 'freenoise_components');
    const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as { block: { cases: Array<{ index: number }> } };
    const block = { ...files.block, cases: files.block.cases.filter((c) => c.index === 0 || c.index === 3) };
    const seen: Comparison[] = [];
    await windowedBlockCases({ dir, name: 'freenoise_components', files: { block }, workDir, target: WEBGPU, report: (c) => seen.push(c) });
    expect(seen).toHaveLength(2);
    expect(seen.filter((c) => !c.pass).map((c) => `${c.what} ${c.maxAbs}`)).toEqual([]);
  });
});
