#!/usr/bin/env node
// `npm run test:gpu`: the reference fixtures through onnxruntime's WebGPU provider (fp32, the CPU tolerance), so a
// change that breaks a GPU kernel or graph fails CI. Without a GPU it runs on SwiftShader, the software Vulkan
// that Debian's chromium ships (which .ci/run installs): slow, but every kernel runs. A real Vulkan driver named
// by VK_ICD_FILENAMES wins. On SwiftShader most of the time is shader compilation on each session's first run, so
// CI verifies one case of every model kind (the CPU run covers every case and weight layout); `--all` runs every
// case under test/fixtures/reference, as `npm run cli -- verify test/fixtures/reference --provider webgpu` does.
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
// One case per kind that runs a model: text encoder, UNet, UNet + motion, VAE, LoRA'd UNet + text encoder, pipeline.
const CASES = ['clip_text', 'unet2d', 'unet_motion', 'vae', 'lora_kohya_alphas', 'pipeline_animatediff_lcm'];
const dirs = process.argv.includes('--all') ? ['test/fixtures/reference'] : CASES.map((c) => `test/fixtures/reference/${c}`);
const started = Date.now();
let failed = 0;
for (const dir of dirs) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/cli.ts', 'verify', dir, '--provider', 'webgpu', '--precision', 'fp32'], { env, stdio: 'inherit' });
  if (r.status !== 0) failed++;
  console.log(`test:gpu: ${dir} ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`test:gpu: ${failed === 0 ? 'passed' : `${failed} FAILED`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed === 0 ? 0 : 1);
