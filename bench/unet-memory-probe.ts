/**
 * Child process for the memory suite: loads one compiled UNet graph, runs it `calls` times on random inputs and
 * prints {peakBytes, anonBytes, fileBytes, callMs[]} as JSON. A process of its own per shape, because memory an
 * earlier session freed is not always returned to the OS (allocator caches), which would leak into the next
 * measurement's peak in a shared process.
 *
 * argv[2]: JSON { model, batch, frames, latentHeight, latentWidth, tokens, latentChannels, contextDim, calls }
 */
import { readFileSync } from 'node:fs';
import { createSession, f32Tensor } from '../src/main/engine/runtime/session';
import { noiseArray } from './model-set';

export interface ProbeRequest {
  model: string;
  batch: number;
  frames: number;
  latentHeight: number;
  latentWidth: number;
  tokens: number;
  latentChannels: number;
  contextDim: number;
  calls: number;
}

export interface ProbeResult {
  peakBytes: number;
  anonBytes: number;
  fileBytes: number;
  startBytes: number;
  sessionMs: number;
  callMs: number[];
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2]) as ProbeRequest;
  const startBytes = field(readFileSync('/proc/self/status', 'utf8'), 'VmRSS');
  const n = req.batch * req.frames;
  const feeds = {
    sample: f32Tensor(noiseArray(n * req.latentChannels * req.latentHeight * req.latentWidth, 3), [n, req.latentChannels, req.latentHeight, req.latentWidth]),
    timestep: f32Tensor(Float32Array.of(500), [1]),
    encoder_hidden_states: f32Tensor(noiseArray(n * req.tokens * req.contextDim, 4), [n, req.tokens, req.contextDim]),
  };
  const t0 = performance.now();
  const s = await createSession(req.model, { providers: ['cpu'] });
  const sessionMs = performance.now() - t0;
  const callMs: number[] = [];
  for (let i = 0; i < req.calls; i++) {
    const t = performance.now();
    await s.run(feeds, { outputs: ['noise_pred'] });
    callMs.push(performance.now() - t);
  }
  const st = readFileSync('/proc/self/status', 'utf8');
  const result: ProbeResult = { peakBytes: field(st, 'VmHWM'), anonBytes: field(st, 'RssAnon'), fileBytes: field(st, 'RssFile'), startBytes, sessionMs, callMs };
  await s.dispose();
  process.stdout.write(`PROBE_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
