import { providerLabel, type ProviderName } from './session';

/**
 * Why a provider that onnxruntime has did not start, in two parts: `reason`, one sentence a creator can act on
 * (install cuDNN 9, update the driver), chosen from what onnxruntime's message says; and `detail`, that message
 * whole, for a bug report. onnxruntime's messages open with C++ source paths and function signatures
 * ("/onnxruntime_src/…/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(…)"), so a cut of
 * their first line tells a creator nothing; the cause is further in.
 */
export interface ProviderFailure {
  reason: string;
  /** onnxruntime's whole message, ANSI colour codes removed. */
  detail: string;
}

/** What onnxruntime-node 1.30 needs for CUDA (its CUDA build links against these majors). */
const CUDA_NEEDS = 'CUDA 12 and cuDNN 9';

// ESC [ … m: the colour codes onnxruntime's logger puts around its lines.
const ANSI = /\u001b\[[0-9;]*m/g;

export function withoutAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** `bundled`: whether onnxruntime-node ships the provider's libraries (listSupportedBackends). */
export function explainProviderFailure(name: ProviderName, error: unknown, bundled: boolean): ProviderFailure {
  const detail = withoutAnsi(error instanceof Error ? error.message : String(error)).trim();
  const known = name === 'cuda' ? cudaReason(detail) : name === 'webgpu' ? webgpuReason(detail) : name === 'dml' ? dmlReason(detail) : undefined;
  if (known) return { reason: known, detail };
  const label = providerLabel(name);
  const installed = bundled ? '' : ` Its libraries are installed separately (${name === 'cuda' ? `${CUDA_NEEDS}, and onnxruntime's CUDA libraries` : 'the provider package'}).`;
  return { reason: `${label} did not start on this machine; onnxruntime's own message is under Details in Settings.${installed}`, detail };
}

function webgpuReason(msg: string): string | undefined {
  // Dawn found no adapter: no GPU, or no Vulkan (Linux) / DirectX 12 (Windows) / Metal (macOS) driver for it.
  if (/Failed to get a WebGPU adapter|No supported adapters|RequestAdapterStatus/i.test(msg)) {
    return 'No WebGPU adapter was found: this machine has no GPU, or no Vulkan/DirectX 12/Metal driver for it.';
  }
  return undefined;
}

/** The library the dynamic loader could not find → what installs it. */
const CUDA_LIBRARIES: [RegExp, string][] = [
  [/^(lib)?cudnn/i, `part of cuDNN 9: install ${CUDA_NEEDS}, with their libraries on LD_LIBRARY_PATH.`],
  [/^(lib)?(cudart|cublas|cufft|curand|cusparse|cusolver|nvrtc)/i, `part of the CUDA 12 runtime: install ${CUDA_NEEDS}, with their libraries on LD_LIBRARY_PATH.`],
  [/onnxruntime_providers/i, `one of onnxruntime's CUDA libraries (onnxruntime-node downloads them only when asked); CUDA also needs ${CUDA_NEEDS}.`],
];

function cudaReason(msg: string): string | undefined {
  // Linux: "… with error: libcudnn.so.9: cannot open shared object file" — the library after "with error" is the
  // missing one (the one before it is the provider that needed it).
  const so = /([^\s/\\:"]+\.so(?:\.[\d.]+)?): cannot open shared object file/.exec(msg)?.[1];
  if (so) return `CUDA could not load ${so}, ${CUDA_LIBRARIES.find(([re]) => re.test(so))?.[1] ?? `which it needs: install ${CUDA_NEEDS}.`}`;
  // Windows: error 126 names the provider DLL, not the dependency it lacked.
  if (/LoadLibrary failed with error 126/i.test(msg)) {
    return `CUDA could not load onnxruntime_providers_cuda.dll because a library it needs is missing: CUDA needs ${CUDA_NEEDS} installed, with their bin folders on PATH.`;
  }
  // onnxruntime-node's own wording when its CUDA provider library is absent (the npm package skips it by default).
  if (/AppendExecutionProvider_Cuda: Failed to load shared library/i.test(msg)) {
    return `CUDA needs onnxruntime's CUDA libraries, which are not installed (onnxruntime-node downloads them only when asked), and ${CUDA_NEEDS}.`;
  }
  if (/CUDA failure 100\b|no CUDA-capable device/i.test(msg)) return 'CUDA found no NVIDIA GPU on this machine (or its driver is not loaded).';
  if (/CUDA failure 35\b|driver version is insufficient/i.test(msg)) return 'CUDA 12 needs a newer NVIDIA driver than the one installed: update the NVIDIA driver.';
  return undefined;
}

function dmlReason(msg: string): string | undefined {
  // DXGI_ERROR_UNSUPPORTED: no Direct3D 12 device at the feature level DirectML needs.
  if (/887A0004|device interface or feature level is not supported/i.test(msg)) {
    return 'DirectML found no graphics adapter with DirectX 12 support: update the graphics driver, or this GPU cannot run DirectML.';
  }
  // DMLCreateDevice: DirectML.dll missing, or older than the one onnxruntime was built against.
  if (/sdk component that is missing or mismatched/i.test(msg)) return "DirectML's library (DirectML.dll) is missing or not the version onnxruntime needs: reinstall the studio.";
  // D3D12CreateDevice: the driver stopped answering.
  if (/GPU will not respond/i.test(msg)) return 'The graphics driver stopped responding to DirectML: update the graphics driver, or restart the computer.';
  return undefined;
}
