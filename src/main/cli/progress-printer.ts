/** Generation progress on stderr: a redrawn bar on a terminal, plain lines otherwise (logs, pipes, tests). */
import type { StepProgress } from '../../shared/domain/generation';
import type { CliIO } from './command';

/** A step as the engine worker reports it (the queue's events carry the same minus the compile details). */
export type CliProgress = Omit<StepProgress, 'jobId'> & { compile?: { reused: boolean } };

export interface ProgressPrinter {
  onProgress: (e: CliProgress) => void;
  /** Clears the bar before the command prints its result. */
  finish(): void;
}

export function progressPrinter(io: CliIO): ProgressPrinter {
  let barShown = false;
  const clear = (): void => {
    if (barShown) process.stderr.write('\r\x1b[K');
    barShown = false;
  };
  if (!io.isTTY) {
    return {
      onProgress: (e) => {
        if (e.stage === 'compile') {
          if (e.message && !e.compile?.reused) io.stderr(e.message);
        } else if (e.stage === 'denoise') io.stderr(`step ${e.step}/${e.totalSteps} ${(e.elapsedMs / 1000).toFixed(2)} s${e.contextWindows ? `, ${e.contextWindows.count} context windows of ${e.contextWindows.length} frames` : ''}`);
        else if (e.stage === 'decode' && e.step === e.totalSteps) io.stderr(`decoded ${e.totalSteps} frames`);
        else if (e.stage === 'write' && e.step === e.totalSteps) io.stderr(`wrote ${e.totalSteps} frames`);
      },
      finish: () => undefined,
    };
  }
  return {
    onProgress: (e) => {
      if (e.stage === 'compile') {
        // Loading from the cache is routine; compiles and provider fallbacks are worth a line.
        if (e.message && !e.compile?.reused) {
          clear();
          io.stderr(e.message);
        }
        return;
      }
      const width = 30;
      const frac = e.totalSteps > 0 ? e.step / e.totalSteps : 0;
      const filled = Math.round(frac * width);
      const eta = e.etaMs !== undefined && e.etaMs > 0 ? `  ETA ${(e.etaMs / 1000).toFixed(1)} s` : '';
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.stage.padEnd(7)} ${e.step}/${e.totalSteps}${eta}`);
      barShown = true;
    },
    finish: clear,
  };
}
