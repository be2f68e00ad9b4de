import { existsSync } from 'node:fs';
import { engineInfo } from '../../src/main/engine/runtime/info';

/**
 * WebGPU for tests: Debian's Chromium ships SwiftShader, a software Vulkan, so onnxruntime's WebGPU provider
 * (Dawn on Vulkan) runs on any CI machine. Slow, but every kernel runs — keep shapes tiny. An explicit
 * VK_ICD_FILENAMES (a real driver) wins; the loader reads it when the first WebGPU session starts.
 */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function webgpuAvailable(): Promise<{ usable: boolean; reason?: string }> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const p = (await engineInfo()).providers.find((x) => x.name === 'webgpu');
  return { usable: p?.usable === true, reason: p?.reason };
}
