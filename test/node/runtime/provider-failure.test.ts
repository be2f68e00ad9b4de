import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineInfo } from '../../../src/main/engine/runtime/info';
import { explainProviderFailure } from '../../../src/main/engine/runtime/provider-failure';
import type { ProviderName } from '../../../src/shared/domain/generation';

/**
 * Why a provider did not start, on real onnxruntime messages: the WebGPU one is captured live (a probe with no
 * Vulkan driver) and from this machine; CUDA's and DirectML's are quoted from onnxruntime's issues
 * (test/fixtures/provider-errors/messages.json names each source).
 */

interface Captured {
  id: string;
  provider: ProviderName;
  source: string;
  message: string;
}
const FIXTURES = join(__dirname, '../../fixtures/provider-errors/messages.json');
const messages = (JSON.parse(readFileSync(FIXTURES, 'utf8')) as { messages: Captured[] }).messages;
const byId = (id: string): Captured => {
  const m = messages.find((x) => x.id === id);
  if (!m) throw new Error(`no fixture ${id}`);
  return m;
};
const explain = (id: string, bundled = true) => explainProviderFailure(byId(id).provider, new Error(byId(id).message), bundled);

/** What a creator must never be shown as the reason: C++ source locations and signatures, colour codes. */
const INTERNALS = /onnxruntime_src|\.cc[:(]\d|\.cpp\(|std::|::|\u001b|adapter_result|\[ONNXRuntimeError\]/;

describe('why a provider did not start', () => {
  it('every captured message gets one plain sentence, and the whole message, colour codes removed, as detail', () => {
    for (const m of messages) {
      const { reason, detail } = explainProviderFailure(m.provider, new Error(m.message), true);
      expect(reason, m.id).not.toMatch(INTERNALS);
      expect(reason, m.id).toMatch(/^[A-Z].*\.$/);
      expect(reason.length, m.id).toBeLessThanOrEqual(200);
      expect(detail, m.id).toBe(m.message.replace(/\u001b\[[0-9;]*m/g, '').trim());
    }
    // Nothing cut: the long CUDA message keeps its tail.
    expect(explain('cuda-no-device').detail).toMatch(/expr=cudaSetDevice\(info_\.device_id\);$/);
  });

  it('WebGPU without an adapter: no GPU or no driver for it', () => {
    expect(explain('webgpu-no-adapter').reason).toBe('No WebGPU adapter was found: this machine has no GPU, or no Vulkan/DirectX 12/Metal driver for it.');
  });

  it('CUDA: names the missing library and what installs it', () => {
    expect(explain('cuda-no-cudnn9').reason).toMatch(/^CUDA could not load libcudnn\.so\.9, part of cuDNN 9: .*CUDA 12 and cuDNN 9/);
    expect(explain('cuda-no-cublaslt').reason).toMatch(/^CUDA could not load libcublasLt\.so\.11, part of the CUDA 12 runtime: /);
    expect(explain('cuda-no-cufft').reason).toMatch(/^CUDA could not load libcufft\.so\.10, part of the CUDA 12 runtime: /);
    // A full path is cut to the library's name; the provider bridge is onnxruntime's own library.
    expect(explain('cuda-providers-shared-log').reason).toMatch(/^CUDA could not load libonnxruntime_providers_shared\.so, one of onnxruntime's CUDA libraries/);
    expect(explain('cuda-windows-126').reason).toMatch(/^CUDA could not load onnxruntime_providers_cuda\.dll .*CUDA 12 and cuDNN 9 .*PATH\.$/);
    expect(explain('cuda-node-not-installed', false).reason).toMatch(/^CUDA needs onnxruntime's CUDA libraries, which are not installed .*CUDA 12 and cuDNN 9\.$/);
    expect(explain('cuda-no-device').reason).toBe('CUDA found no NVIDIA GPU on this machine (or its driver is not loaded).');
    expect(explain('cuda-old-driver').reason).toMatch(/update the NVIDIA driver\.$/);
  });

  it('DirectML: the adapter or its driver', () => {
    expect(explain('dml-unsupported-adapter').reason).toMatch(/^DirectML found no graphics adapter with DirectX 12 support: update the graphics driver/);
    expect(explain('dml-unsupported-adapter-localized').reason).toBe(explain('dml-unsupported-adapter').reason);
    expect(explain('dml-driver-hung').reason).toMatch(/graphics driver stopped responding/);
    expect(explain('dml-sdk-mismatch').reason).toMatch(/DirectML\.dll/);
  });

  it('anything else: a plain sentence pointing at the details, plus where the libraries come from when not bundled', () => {
    expect(explain('dml-other').reason).toBe("DirectML did not start on this machine; onnxruntime's own message is under Details in Settings.");
    expect(explainProviderFailure('coreml', new Error('unexpected'), false).reason).toMatch(/^CoreML did not start .* Its libraries are installed separately/);
  });

  it.runIf(process.platform === 'linux')('the live probe with no Vulkan driver: WebGPU fails with the short reason and onnxruntime\'s whole message', () => {
    // A driver list naming no file: the Vulkan loader finds no driver, whatever GPU the machine has.
    const env = { ...process.env, VK_ICD_FILENAMES: join(__dirname, 'no-such-icd.json') };
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'provider-probe.ts')], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as EngineInfo;
    const webgpu = info.providers.find((p) => p.name === 'webgpu');
    expect(webgpu?.usable).toBe(false);
    expect(webgpu?.reason).toBe(explain('webgpu-no-adapter').reason);
    expect(webgpu?.detail).toMatch(/Failed to get a WebGPU adapter/);
    expect(webgpu?.detail).not.toMatch(/\u001b/);
    // Every provider that was tried and failed carries both; one never tried (not in this build) has no detail.
    for (const p of info.providers.filter((x) => !x.usable)) {
      expect(p.reason, p.name).not.toMatch(INTERNALS);
      if (p.detail === undefined) expect(p.reason, p.name).toMatch(/is not part of onnxruntime/);
    }
  });
});
