/**
 * Child process for the memory suite: loads one ONNX graph, runs it `calls` times on random float inputs of the
 * given shapes (int64 inputs get zeros) and prints {peakBytes, anonBytes, fileBytes, startBytes, feedBytes, …}
 * as JSON. One fresh process per measurement, because memory an earlier session freed is not always returned
 * to the OS (allocator caches) and would hide or inflate the next measurement's peak in a shared process.
 *
 * argv[2]: JSON ProbeRequest.
 */
import { readFileSync } from 'node:fs';
import { createSession, f32Tensor, type EngineSession, type HostTensor } from '../src/main/engine/runtime/session';
import { noiseArray } from './model-set';

export interface ProbeModel {
  model: string;
  inputs: Array<{ name: string; dims: number[] }>;
}

export interface ProbeRequest extends ProbeModel {
  calls: number;
  /**
   * Graphs loaded first and run just before `model` in every call, in this process (the controlnet suite: the
   * ControlNet session, then the UNet it feeds, as a controlled step runs them). Their inputs are random too.
   */
  before?: ProbeModel[];
  /** onnxruntime's CPU arena for every session of the probe (default on, as the studio runs). */
  cpuMemArena?: boolean;
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
  /** Per `before` graph: its session creation and its calls (each right before the `model` call of that round). */
  before?: Array<{ sessionMs: number; callMs: number[] }>;
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2]) as ProbeRequest;
  let feedBytes = 0;
  const feedsOf = (m: ProbeModel): Record<string, HostTensor> => {
    const feeds: Record<string, HostTensor> = {};
    m.inputs.forEach((inp, i) => {
      const n = inp.dims.reduce((a, b) => a * b, 1);
      feeds[inp.name] = f32Tensor(noiseArray(n, 3 + i), inp.dims);
      feedBytes += 4 * n;
    });
    return feeds;
  };
  const feeds = feedsOf(req);
  const beforeFeeds = (req.before ?? []).map(feedsOf);
  const startBytes = field(readFileSync('/proc/self/status', 'utf8'), 'VmRSS');
  const before: Array<{ session: EngineSession; sessionMs: number; callMs: number[] }> = [];
  for (const b of req.before ?? []) {
    const tb = performance.now();
    const session = await createSession(b.model, { providers: ['cpu'], cpuMemArena: req.cpuMemArena });
    before.push({ session, sessionMs: performance.now() - tb, callMs: [] });
  }
  const t0 = performance.now();
  const s = await createSession(req.model, { providers: ['cpu'], cpuMemArena: req.cpuMemArena });
  const sessionMs = performance.now() - t0;
  const callMs: number[] = [];
  for (let i = 0; i < req.calls; i++) {
    for (const [j, b] of before.entries()) {
      const tb = performance.now();
      await b.session.run(beforeFeeds[j]);
      b.callMs.push(performance.now() - tb);
    }
    const t = performance.now();
    await s.run(feeds);
    callMs.push(performance.now() - t);
  }
  const st = readFileSync('/proc/self/status', 'utf8');
  const result: ProbeResult = { peakBytes: field(st, 'VmHWM'), anonBytes: field(st, 'RssAnon'), fileBytes: field(st, 'RssFile'), startBytes, feedBytes, sessionMs, callMs };
  if (before.length > 0) result.before = before.map((b) => ({ sessionMs: b.sessionMs, callMs: b.callMs }));
  await s.dispose();
  for (const b of before) await b.session.dispose();
  process.stdout.write(`PROBE_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
