#!/usr/bin/env node
// `npm run test:gpu`: the reference fixtures through onnxruntime's WebGPU provider (fp32, the CPU tolerance), so a
// change that breaks a GPU kernel or graph fails CI. Without a GPU it runs on SwiftShader, the software Vulkan
// that Debian's chromium ships (which .ci/run installs): slow, but every kernel runs. A real Vulkan driver named
// by VK_ICD_FILENAMES wins. SwiftShader is slow, so CI verifies the cases below (the CPU run covers every case and
// weight layout); `--all` runs every case under test/fixtures/reference, as
// `npm run cli -- verify test/fixtures/reference --provider webgpu` does.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const env = { ...process.env };
if (!env.VK_ICD_FILENAMES) {
  if (!existsSync(SWIFTSHADER)) {
    console.error(`test:gpu needs a Vulkan driver for WebGPU: install Debian's chromium (it ships SwiftShader at ${SWIFTSHADER}) or set VK_ICD_FILENAMES.`);
    process.exit(1);
  }
  env.VK_ICD_FILENAMES = SWIFTSHADER;
}
console.log(`test:gpu: verify on WebGPU, Vulkan driver ${env.VK_ICD_FILENAMES}`);
// One case per model graph: text encoder, UNet, VAE (encoder + decoder), ControlNet (+ the UNet with its
// residuals), and the pipeline — the engine's own ModelSet graphs (UNet + motion modules with LoRA slots, CLIP,
// VAE decoder) through LCM sampling. Then test/gpu's specs (vitest.gpu.config.ts): the I2V image encoder and the
// FreeNoise windowed motion block, the other families with WebGPU kernels of their own, on a slice of their kinds.
// unet_motion, the LoRA, i2v and FreeNoise cases run the same kernels through whole motion UNets and cost most on
// SwiftShader (measured under a load of 12–17 on 2 cores: unet_motion 714 s, lora_kohya_alphas 142 s; clip_text
// 21 s, unet2d 135 s, vae 85 s): `--all` runs every case instead.
const CASES = ['clip_text', 'unet2d', 'vae', 'controlnet', 'pipeline_animatediff_lcm'];
const dirs = process.argv.includes('--all') ? ['test/fixtures/reference'] : CASES.map((c) => `test/fixtures/reference/${c}`);
const started = Date.now();
let failed = 0;
for (const dir of dirs) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'verify', dir, '--provider', 'webgpu', '--precision', 'fp32'], { env, stdio: 'inherit' });
  if (r.status !== 0) failed++;
  console.log(`test:gpu: ${dir} ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
if (!process.argv.includes('--all')) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.gpu.config.ts'], { env, stdio: 'inherit' });
  if (r.status !== 0) failed++;
  console.log(`test:gpu: test/gpu (image encoder, windowed motion block) ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`test:gpu: ${failed === 0 ? 'passed' : `${failed} FAILED`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed === 0 ? 0 : 1);
