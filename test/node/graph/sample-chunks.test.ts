import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { motionUNetFixture } from './motion-unet-fixture';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUNetGraph } from '../../../src/main/compiler/families/unet';
import { allInitializers } from '../../../src/main/compiler/graph/builder';
import { samplesPerChunk } from '../../../src/main/compiler/graph/sample-chunks';
import { formatComparison } from '../../../src/main/verify/compare';
import { handlerFor } from '../../../src/main/verify/registry';
import type { Comparison, VerifyTarget } from '../../../src/main/verify/types';

/**
 * The CPU memory plan runs resnets and spatial transformers as Scans over groups of samples. The fixtures'
 * latents are far below the CPU threshold, so these cases force one sample per iteration and hold the chunked
 * graphs to diffusers' outputs at the CPU tolerance.
 */
const REF = join(__dirname, '../../fixtures/reference');
const ONE_SAMPLE: VerifyTarget = { provider: 'cpu', precision: 'float32', sampleChunks: { maxRows: 1 } };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The graphs a case compiled into `dir` that hold a Scan (the chunked form really ran). */
function chunkedGraphs(dir: string): string[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.onnx'));
  return files.filter((f) => readFileSync(join(dir, f)).includes('Scan'));
}

async function verifyCase(folder: string, target: VerifyTarget): Promise<{ got: Comparison[]; scans: string[] }> {
  const dir = join(REF, folder);
  const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as Record<string, unknown>;
  const handler = handlerFor(String(files.kind));
  if (!handler) throw new Error(`no handler for ${String(files.kind)}`);
  const workDir = mkdtempSync(join(tmpdir(), 'chunks-'));
  dirs.push(workDir);
  const got: Comparison[] = [];
  await handler.run({ dir, name: folder, files, workDir, target, report: (c) => got.push(c) });
  return { got, scans: chunkedGraphs(workDir) };
}

describe('sample chunks', () => {
  it('picks the largest divisor of the sample count within the row budget', () => {
    expect(samplesPerChunk(16, 4096, { maxRows: 4096 })).toBe(1);
    expect(samplesPerChunk(16, 1024, { maxRows: 4096 })).toBe(4);
    expect(samplesPerChunk(32, 256, { maxRows: 4096 })).toBe(16);
    expect(samplesPerChunk(16, 256, { maxRows: 4096 })).toBe(16);
    expect(samplesPerChunk(24, 1024, { maxRows: 5120 })).toBe(4); // 5 does not divide 24
    expect(samplesPerChunk(13, 1024, { maxRows: 4096 })).toBe(1); // a prime count goes one by one
  });

  it('builds every spatial layer and motion module of the motion UNet as a Scan, each body owning the weights of its layer', () => {
    const { w, cfg, motion } = motionUNetFixture();
    const plain = buildUNetGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, motion });
    const chunked = buildUNetGraph(w, cfg, { batch: 2, latentHeight: 8, latentWidth: 8, motion, sampleChunks: { maxRows: 64 } });
    const scans = chunked.nodes.filter((n) => n.opType === 'Scan').map((n) => n.name);
    const layers = cfg.block_out_channels.length * (2 * cfg.layers_per_block + 1) + 2; // down + up layers, mid's two
    expect(scans.filter((n) => /\.layers\.\d+\/scan$/.test(n)).length).toBe(layers);
    // Every motion module's pixel sequences (2 × 8·8 sequences of 4 frames at full resolution) as a Scan too.
    const modules = layers - 2 + (motion.cfg.use_motion_mid_block ? 1 : 0);
    expect(scans.filter((n) => /motion_modules\.\d+\.sequences\/scan$/.test(n)).length).toBe(modules);
    // Same weights, written once.
    expect(allInitializers(chunked).filter((i) => i.source.kind === 'weight').length).toBe(plain.initializers.filter((i) => i.source.kind === 'weight').length);
    // The bodies own their layers' weights (onnxruntime's NCHWc and pre-packing passes only rewrite a graph's own).
    const spatial = (names: string[]) => names.filter((n) => /\.(resnets|attentions)\./.test(n));
    expect(spatial(chunked.initializers.filter((i) => i.source.kind === 'weight').map((i) => i.name))).toEqual([]);
    expect(spatial(allInitializers(chunked).map((i) => i.name)).length).toBeGreaterThan(0);
    expect(plain.nodes.some((n) => n.opType === 'Scan')).toBe(false);
  });

  // Plain UNets, motion UNets, a ControlNet with the residual UNet, the I2V UNet with image features, LoRA slots
  // read inside the bodies, FreeNoise windows between them.
  for (const folder of ['unet_motion', 'unet_motion_per_frame', 'unet2d', 'controlnet', 'pipeline_animatelcm_i2v', 'lora_stack', 'lora_motion', 'pipeline_animatediff_lcm_freenoise', 'pipeline_animatediff_lcm', 'pipeline_animatediff_lcm_v2v', 'pipeline_animatediff_lcm_controlnet', 'pipeline_animatelcm_i2v_cfg', 'pipeline_animatediff_lcm_freenoise_prompt_travel']) {
    it(`${folder}: one sample per iteration reproduces diffusers`, async () => {
      const { got, scans } = await verifyCase(folder, ONE_SAMPLE);
      expect(scans.length).toBeGreaterThan(0);
      // In a controlled pipeline the ControlNet follows the UNet call's plan.
      if (folder === 'pipeline_animatediff_lcm_controlnet') expect(scans.some((f) => /controlnet_b\d+_.*_rows1/.test(f)), scans.join(', ')).toBe(true);
      expect(got.length).toBeGreaterThan(0);
      for (const c of got) expect(c.pass, formatComparison(c)).toBe(true);
    });
  }
});
