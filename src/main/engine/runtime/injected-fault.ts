/**
 * A fault forced into a session run, for the fault tests only: a real lost GPU or out-of-memory cannot be caused
 * on demand. `ANIMATELCM_INJECT_RUN_FAULT="<provider>:<n>:<message>"` makes the n-th run of a session on that
 * provider (counted from 1 since the variable took this value, in this process) fail with onnxruntime-like
 * `message` — e.g. "webgpu:3:[WebGPU] device lost: VK_ERROR_DEVICE_LOST" — which then takes the ordinary path
 * (runFailure → typed error → job error → worker restart). Other providers' runs are not counted, so a CPU job
 * queued behind the faulty one runs normally. Unset: one environment read per run.
 */
let runs = 0;
let counting: string | undefined;

export function injectedRunFault(provider: string): string | undefined {
  const spec = process.env.ANIMATELCM_INJECT_RUN_FAULT;
  if (!spec) return undefined;
  const m = /^([a-z]+):(\d+):(.+)$/s.exec(spec);
  if (!m || m[1] !== provider) return undefined;
  // Runs count from when this value was set (a test may set it mid-process).
  if (spec !== counting) [counting, runs] = [spec, 0];
  runs++;
  return Number(m[2]) === runs ? m[3] : undefined;
}
