/**
 * Run one ffmpeg process: PNG frames go in on stdin (image2pipe, in the planned order, with backpressure),
 * progress comes out on stdout, errors on stderr. An AbortSignal kills the process; the caller removes the
 * partial output (it owns the temporary path).
 *
 * Why frames through stdin rather than a file pattern: a plan repeats, reorders and drops frames (trims, speeds,
 * ping-pong, loops), and streaming the files in plan order expresses all of that exactly, with no temporary
 * links or copies and no dependence on ffmpeg's concat timing rules.
 */
import { spawn } from 'node:child_process';
import type { ExportProgress } from '../../shared/domain/export';
import { StudioError } from '../../shared/errors';
import { frameBytes, type PlannedFrame } from './crossfade';
import { ffmpegWriteError } from './fs-errors';
import { ProgressParser } from './progress';

export interface RunFfmpegOptions {
  ffmpeg: string;
  args: string[];
  /** PNG files written to stdin in order (the args must read `-f image2pipe -i pipe:0`). */
  inputFiles?: readonly PlannedFrame[];
  /** The output path, for error messages. */
  output: string;
  totalFrames: number;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

const STDERR_KEEP = 16 * 1024;

function cancelled(): StudioError {
  return new StudioError('CANCELLED', 'Export cancelled.');
}

export function runFfmpeg(o: RunFfmpegOptions): Promise<void> {
  if (o.signal?.aborted) return Promise.reject(cancelled());
  return new Promise<void>((resolve, reject) => {
    const child = spawn(o.ffmpeg, o.args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stderr = '';
    let settled = false;
    let aborted = false;
    const parser = new ProgressParser(o.totalFrames, (p) => o.onProgress?.(p));

    const finish = (err?: StudioError) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => {
      aborted = true;
      // SIGKILL: ffmpeg traps SIGTERM/SIGINT to finish the file cleanly, which is exactly what we do not want.
      child.kill('SIGKILL');
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => parser.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
    });
    // EPIPE when ffmpeg exits before reading everything: the exit code and stderr say why.
    child.stdin.on('error', () => undefined);

    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') {
        finish(new StudioError('FFMPEG_NOT_FOUND', `ffmpeg could not be started (${o.ffmpeg}): ${e.message}. Install ffmpeg or set FFMPEG_PATH.`, { ffmpeg: o.ffmpeg }));
      } else {
        finish(new StudioError('FFMPEG_FAILED', `ffmpeg could not be started: ${e.message}`, { ffmpeg: o.ffmpeg }));
      }
    });
    child.on('close', (code, sig) => {
      if (aborted) return finish(cancelled());
      const tail = stderr.trim().split('\n').slice(-8).join('\n');
      if (code === 0) {
        // ffmpeg 5.x exits 0 even when writing the trailer fails (a full disk at the very end): check what it said.
        if (!/Error (writing trailer|closing file)|No space left on device|Permission denied/i.test(stderr)) return finish();
        return finish(ffmpegWriteError(stderr, o.output) ?? new StudioError('FFMPEG_FAILED', `ffmpeg could not finish the file: ${tail}`, { stderr: tail }));
      }
      finish(
        ffmpegWriteError(stderr, o.output) ??
          new StudioError('FFMPEG_FAILED', `ffmpeg failed (${sig ? `signal ${sig}` : `exit code ${code}`}): ${tail.split('\n').pop() ?? ''}`, {
            stderr: tail,
            args: o.args,
          }),
      );
    });

    const feed = async () => {
      for (const file of o.inputFiles ?? []) {
        if (settled || aborted) return;
        const data = await frameBytes(file);
        if (settled || aborted) return;
        if (!child.stdin.write(data)) {
          await new Promise<void>((r) => {
            const done = () => {
              child.stdin.off('drain', done);
              child.stdin.off('close', done);
              r();
            };
            child.stdin.on('drain', done);
            child.stdin.on('close', done);
          });
        }
      }
      child.stdin.end();
    };
    feed().catch((e: unknown) => {
      child.kill('SIGKILL');
      const err = e as NodeJS.ErrnoException;
      finish(new StudioError('FILE_UNREADABLE', `Cannot read frame ${err.path ?? ''}: ${err.message}`, { path: err.path }));
    });
  });
}
