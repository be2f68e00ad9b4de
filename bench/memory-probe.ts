/**
 * Child process for the memory suite: loads one ONNX graph, runs it `calls` times on random float inputs of the
 * given shapes (int64 inputs get zeros) and prints {peakBytes, anonBytes, fileBytes, startBytes, feedBytes, …}
 * as JSON. One fresh process per measurement, because memory an earlier session freed is not always returned
 * to the OS (allocator caches) and would hide or inflate the next measurement's peak in a shared process.
 *
 * argv[2]: JSON ProbeRequest.
 */
import { readFileSync } from 'node:fs';
import { createSession, f32Tensor, type HostTensor } from '../src/main/engine/runtime/session';
import { noiseArray } from './model-set';

export interface ProbeRequest {
  model: string;
  inputs: Array<{ name: string; dims: number[] }>;
  calls: number;
}

export interface ProbeResult {
  /** Process peak RSS (VmHWM), bytes. */
  peakBytes: number;
  /** RSS at the end, split into anonymous and file-backed (mmapped) memory. */
  anonBytes: number;
  fileBytes: number;
  /** RSS once the inputs exist, before the session is created. */
  startBytes: number;
  feedBytes: number;
  sessionMs: number;
  callMs: number[];
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2]) as ProbeRequest;
  const feeds: Record<string, HostTensor> = {};
  let feedBytes = 0;
  req.inputs.forEach((inp, i) => {
    const n = inp.dims.reduce((a, b) => a * b, 1);
    feeds[inp.name] = f32Tensor(noiseArray(n, 3 + i), inp.dims);
    feedBytes += 4 * n;
  });
  const startBytes = field(readFileSync('/proc/self/status', 'utf8'), 'VmRSS');
  const t0 = performance.now();
  const s = await createSession(req.model, { providers: ['cpu'] });
  const sessionMs = performance.now() - t0;
  const callMs: number[] = [];
  for (let i = 0; i < req.calls; i++) {
    const t = performance.now();
    await s.run(feeds);
    callMs.push(performance.now() - t);
  }
  const st = readFileSync('/proc/self/status', 'utf8');
  const result: ProbeResult = { peakBytes: field(st, 'VmHWM'), anonBytes: field(st, 'RssAnon'), fileBytes: field(st, 'RssFile'), startBytes, feedBytes, sessionMs, callMs };
  await s.dispose();
  process.stdout.write(`PROBE_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
