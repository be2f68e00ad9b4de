import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StudioEventPayloads } from '../../../src/shared/api';
import { DEFAULT_PARAMS, type GenerationParams, type StepProgress } from '../../../src/shared/domain/generation';
import { EngineHost } from '../../../src/main/services/engine-host';
import { GenerationService, type JobEvent } from '../../../src/main/services/generation-service';
import { HistoryService } from '../../../src/main/services/history-service';
import { openDatabase, type StudioDatabase } from '../../../src/main/store/database';

/** The starter model at a tiny size: a job takes a few seconds on a loaded 2-core machine. */
export function tinyParams(over: Partial<GenerationParams> = {}): GenerationParams {
  return { ...structuredClone(DEFAULT_PARAMS), prompt: 'a paper boat on a pond', width: 64, height: 64, frames: 2, steps: 2, seed: 1, ...over };
}

export type RecordedEvent = { [E in JobEvent]: { event: E; payload: StudioEventPayloads[E]; at: number } }[JobEvent];

/** A real queue: real engine worker (child process via the engine host), real SQLite in a temp data folder. */
export interface Harness {
  dataDir: string;
  db: StudioDatabase;
  engine: EngineHost;
  history: HistoryService;
  queue: GenerationService;
  events: RecordedEvent[];
  progressOf(jobId: string): StepProgress[];
  statesOf(jobId: string): string[];
  /** Resolves with the first progress event of the job matching `pred`. */
  waitProgress(jobId: string, pred: (p: StepProgress) => boolean): Promise<StepProgress>;
  close(): Promise<void>;
}

export function makeHarness(): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), 'animatelcm-generation-'));
  const db = openDatabase(dataDir);
  const engine = new EngineHost();
  const history = new HistoryService(db);
  const events: RecordedEvent[] = [];
  const watchers = new Set<(e: RecordedEvent) => void>();
  const queue = new GenerationService({
    engine,
    history,
    dataDir,
    emit: (event, payload) => {
      const e = { event, payload, at: performance.now() } as RecordedEvent;
      events.push(e);
      for (const w of watchers) w(e);
    },
  });
  const progressOf = (jobId: string): StepProgress[] =>
    events.flatMap((e) => (e.event === 'onJobProgress' && e.payload.jobId === jobId ? [e.payload] : []));
  return {
    dataDir,
    db,
    engine,
    history,
    queue,
    events,
    progressOf,
    statesOf: (jobId) => events.flatMap((e) => (e.event === 'onJobState' && e.payload.jobId === jobId ? [e.payload.status] : [])),
    waitProgress: (jobId, pred) => {
      const seen = progressOf(jobId).find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const w = (e: RecordedEvent): void => {
          if (e.event === 'onJobProgress' && e.payload.jobId === jobId && pred(e.payload)) {
            watchers.delete(w);
            resolve(e.payload);
          }
        };
        watchers.add(w);
      });
    },
    close: async () => {
      await queue.dispose();
      await engine.dispose();
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The frame PNGs of an output folder, in name order. */
export function frameFiles(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((n) => /^frame_\d+\.png$/.test(n))
    .sort()
    .map((n) => readFileSync(join(dir, n)));
}

/** Largest gap between ticks of a 10 ms timer on this (main) thread, from start() to stop(). */
export function loopMonitor(): { stop(): number } {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(maxGap, performance.now() - last);
    },
  };
}
