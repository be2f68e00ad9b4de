/**
 * A fault forced into a session run, for the fault tests only: a real lost GPU or out-of-memory cannot be caused
 * on demand. `ANIMATELCM_INJECT_RUN_FAULT="<n>:<message>"` makes the n-th session run of this process (counted
 * from 1, any session) fail with onnxruntime-like `message` — e.g. "3:[WebGPU] device lost: VK_ERROR_DEVICE_LOST" —
 * which then takes the ordinary path (runFailure → typed error → job error → worker restart). Unset: no cost but
 * one environment read per run.
 */
let runs = 0;

export function injectedRunFault(): string | undefined {
  const spec = process.env.ANIMATELCM_INJECT_RUN_FAULT;
  if (!spec) return undefined;
  runs++;
  const m = /^(\d+):(.+)$/s.exec(spec);
  return m && Number(m[1]) === runs ? m[2] : undefined;
}
