import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../compiler/graph/builder';
import { encodeModel } from '../../compiler/graph/emit';
import type { DeviceInfo } from '../../../shared/api';

/**
 * What the WebGPU provider runs on. onnxruntime-node exposes no adapter information (its `env.webgpu` is empty
 * in Node), so:
 *
 * * **shader-f16** is found by running a float16 graph (Add + Gather, the first ops an fp16 UNet needs): an adapter
 *   without the feature fails with "requires f16 but the device does not support it".
 * * **vendor and name** come from the Vulkan driver the loader will use (VK_ICD_FILENAMES, else the ICD folders)
 *   on Linux — the driver library names the vendor — plus the GPU's model and memory where the system says them
 *   (/proc/driver/nvidia, nvidia-smi, amdgpu's sysfs). Elsewhere (Dawn on D3D12 / Metal) they are "unknown".
 * * **software**: SwiftShader and Mesa's llvmpipe are CPU emulations of a GPU — slower than the CPU provider — so
 *   the automatic provider order skips them (engine/generate.ts); asking for WebGPU explicitly still uses them.
 */

const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

export async function probeShaderF16(): Promise<boolean> {
  const g = new GraphBuilder('probe_f16', 'float16');
  const table = g.constFloat([1, 2, 3, 4], [4, 1], 'table');
  const ids = g.input('ids', 'int64', [2]);
  const x = g.input('x', 'float16', [2, 1]);
  g.output(g.op('Add', [g.op('Gather', [table, ids], {}), x]), 'y', 'float16', [2, 1]);
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(encodeModel(g.build(), new Map()), { executionProviders: ['webgpu'], logSeverityLevel: 4 });
    await session.run({ ids: new ort.Tensor('int64', BigInt64Array.of(0n, 3n), [2]), x: new ort.Tensor('float16', new Uint16Array(2), [2, 1]) });
    return true;
  } catch {
    return false;
  } finally {
    await session?.release().catch(() => undefined);
  }
}

/** The Vulkan drivers' library paths the loader will consider. */
function vulkanDrivers(): string[] {
  const files = process.env.VK_ICD_FILENAMES
    ? process.env.VK_ICD_FILENAMES.split(process.platform === 'win32' ? ';' : ':')
    : ICD_DIRS.flatMap((d) => (existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)) : []));
  return files.flatMap((f) => {
    try {
      const icd = (JSON.parse(readFileSync(f, 'utf8')) as { ICD?: { library_path?: string } }).ICD;
      return icd?.library_path ? [icd.library_path] : [];
    } catch {
      return [];
    }
  });
}

/** Describes the adapter onnxruntime's WebGPU provider gets; `shaderF16` from probeShaderF16(). */
export function describeWebgpuAdapter(shaderF16: boolean): DeviceInfo {
  if (process.platform !== 'linux') return { vendor: 'unknown', name: `WebGPU adapter (${process.platform === 'win32' ? 'Direct3D 12' : 'Metal'})`, shaderF16, software: false };
  const libs = vulkanDrivers().map((l) => l.toLowerCase());
  const has = (re: RegExp): boolean => libs.some((l) => re.test(l));
  if (has(/nvidia/)) return { vendor: 'NVIDIA', name: nvidiaName() ?? 'NVIDIA GPU', shaderF16, software: false, ...nvidiaMemory() };
  if (has(/radeon|amd/)) return { vendor: 'AMD', name: 'AMD GPU', shaderF16, software: false, ...amdMemory() };
  if (has(/intel/)) return { vendor: 'Intel', name: 'Intel GPU', shaderF16, software: false };
  if (has(/swiftshader/)) return { vendor: 'Google', name: 'SwiftShader (software Vulkan, runs on the CPU)', shaderF16, software: true };
  if (has(/lvp/)) return { vendor: 'Mesa', name: 'llvmpipe (software Vulkan, runs on the CPU)', shaderF16, software: true };
  return { vendor: 'unknown', name: libs.length > 0 ? `Vulkan driver ${libs[0]}` : 'unknown Vulkan device', shaderF16, software: false };
}

function nvidiaName(): string | undefined {
  const root = '/proc/driver/nvidia/gpus';
  if (!existsSync(root)) return undefined;
  for (const gpu of readdirSync(root)) {
    const m = /^Model:\s*(.+)$/m.exec(readSafe(join(root, gpu, 'information')));
    if (m) return m[1].trim();
  }
  return undefined;
}

function nvidiaMemory(): { memoryBytes?: number } {
  try {
    const mib = Number(execFileSync('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000 }).split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? { memoryBytes: mib * 2 ** 20 } : {};
  } catch {
    return {};
  }
}

function amdMemory(): { memoryBytes?: number } {
  const root = '/sys/class/drm';
  if (!existsSync(root)) return {};
  for (const card of readdirSync(root).filter((c) => /^card\d+$/.test(c))) {
    const bytes = Number(readSafe(join(root, card, 'device', 'mem_info_vram_total')));
    if (bytes > 0) return { memoryBytes: bytes };
  }
  return {};
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
