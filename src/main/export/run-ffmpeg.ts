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
  /**
   * Arguments of a first ffmpeg that reads the PNG files instead and whose stdout feeds the main one's stdin
   * (clips of different sizes, see `buildNormaliserArgs`).
   */
  normaliser?: string[];
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

interface Exit {
  code: number | null;
  sig: NodeJS.Signals | null;
  stderr: string;
}

function startError(e: NodeJS.ErrnoException, ffmpeg: string): StudioError {
  if (e.code === 'ENOENT' || e.code === 'EACCES') {
    return new StudioError('FFMPEG_NOT_FOUND', `ffmpeg could not be started (${ffmpeg}): ${e.message}. Install ffmpeg or set FFMPEG_PATH.`, { ffmpeg });
  }
  return new StudioError('FFMPEG_FAILED', `ffmpeg could not be started: ${e.message}`, { ffmpeg });
}

/** What the encoder's exit says: undefined when it wrote the file. */
function encoderFailure(x: Exit, o: RunFfmpegOptions): StudioError | undefined {
  const tail = x.stderr.trim().split('\n').slice(-8).join('\n');
  if (x.code === 0) {
    // ffmpeg 5.x exits 0 even when writing the trailer fails (a full disk at the very end): check what it said.
    if (!/Error (writing trailer|closing file)|No space left on device|Permission denied/i.test(x.stderr)) return undefined;
    return ffmpegWriteError(x.stderr, o.output) ?? new StudioError('FFMPEG_FAILED', `ffmpeg could not finish the file: ${tail}`, { stderr: tail });
  }
  return (
    ffmpegWriteError(x.stderr, o.output) ??
    new StudioError('FFMPEG_FAILED', `ffmpeg failed (${x.sig ? `signal ${x.sig}` : `exit code ${x.code}`}): ${tail.split('\n').pop() ?? ''}`, {
      stderr: tail,
      args: o.args,
    })
  );
}

export interface FfmpegOutcome {
  /** The frames ffmpeg says it wrote (its last `frame=`): the caller compares them with the plan. */
  framesWritten: number;
  /** The last lines ffmpeg wrote to stderr (a damaged frame is reported there while it still exits 0). */
  messages: string;
}

/** Resolves once the file is written; a frame lost inside ffmpeg is for the caller to catch by the count. */
export function runFfmpeg(o: RunFfmpegOptions): Promise<FfmpegOutcome> {
  if (o.signal?.aborted) return Promise.reject(cancelled());
  return new Promise<FfmpegOutcome>((resolve, reject) => {
    const spawnOne = (args: string[]) => spawn(o.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const normaliser = o.normaliser ? spawnOne(o.normaliser) : undefined;
    const child = spawnOne(o.args);
    const procs = normaliser ? [normaliser, child] : [child];
    let settled = false;
    let aborted = false;
    const parser = new ProgressParser(o.totalFrames, (p) => o.onProgress?.(p));
    const killAll = () => {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    };

    let messages = '';
    const finish = (err?: StudioError) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      if (err) {
        killAll();
        reject(err);
      } else resolve({ framesWritten: parser.framesWritten, messages });
    };
    const onAbort = () => {
      aborted = true;
      // SIGKILL: ffmpeg traps SIGTERM/SIGINT to finish the file cleanly, which is exactly what we do not want.
      killAll();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const exits = procs.map(
      (p) =>
        new Promise<Exit>((done) => {
          let stderr = '';
          p.stderr.setEncoding('utf8');
          p.stderr.on('data', (d: string) => {
            stderr = (stderr + d).slice(-STDERR_KEEP);
          });
          // EPIPE when ffmpeg exits before reading everything: the exit code and stderr say why.
          p.stdin.on('error', () => undefined);
          p.stdout.on('error', () => undefined);
          p.on('error', (e: NodeJS.ErrnoException) => finish(startError(e, o.ffmpeg)));
          p.on('close', (code, sig) => {
            // The encoder gone, the normaliser would block on a full pipe: stop it.
            if (p === child && code !== 0) killAll();
            done({ code, sig, stderr });
          });
        }),
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => parser.push(d));
    if (normaliser) normaliser.stdout.pipe(child.stdin);

    void Promise.all(exits).then((xs) => {
      if (aborted) return finish(cancelled());
      const enc = xs[xs.length - 1];
      messages = xs.map((x) => x.stderr.trim()).filter(Boolean).join('\n').split('\n').slice(-4).join('\n');
      const failed = encoderFailure(enc, o);
      if (failed) return finish(failed);
      const pre = normaliser ? xs[0] : undefined;
      if (pre && pre.code !== 0) {
        const tail = pre.stderr.trim().split('\n').slice(-8).join('\n');
        return finish(new StudioError('FFMPEG_FAILED', `ffmpeg could not fit the clips to one size: ${tail.split('\n').pop() ?? ''}`, { stderr: tail, args: o.normaliser }));
      }
      finish();
    });

    const sink = (normaliser ?? child).stdin;
    const feed = async () => {
      for (const file of o.inputFiles ?? []) {
        if (settled || aborted) return;
        const data = await frameBytes(file);
        if (settled || aborted) return;
        if (!sink.write(data)) {
          await new Promise<void>((r) => {
            const done = () => {
              sink.off('drain', done);
              sink.off('close', done);
              r();
            };
            sink.on('drain', done);
            sink.on('close', done);
          });
        }
      }
      sink.end();
    };
    feed().catch((e: unknown) => {
      const err = e as NodeJS.ErrnoException;
      finish(new StudioError('FILE_UNREADABLE', `Cannot read frame ${err.path ?? ''}: ${err.message}`, { path: err.path }));
    });
  });
}
