/**
 * ffmpeg's machine-readable progress (`-progress pipe:1`): blocks of `key=value` lines, each block closed by
 * `progress=continue` or, once, `progress=end`. We map `frame=` onto the frame count we planned (the only total
 * we know exactly), and `out_time_us=` onto milliseconds for display.
 */
import type { ExportProgress } from '../../shared/domain/export';

export class ProgressParser {
  private partial = '';
  private frame = 0;
  private outTimeUs = 0;

  constructor(
    private readonly totalFrames: number,
    private readonly emit: (p: ExportProgress) => void,
  ) {}

  /** The last `frame=` ffmpeg reported: at the end, how many frames the file holds. */
  get framesWritten(): number {
    return this.frame;
  }

  /** Feed raw stdout; emits one event per completed block. */
  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === 'frame') {
      const n = Number(value);
      if (Number.isFinite(n)) this.frame = n;
    } else if (key === 'out_time_us') {
      // "N/A" before the first packet is muxed.
      const n = Number(value);
      if (Number.isFinite(n) && n >= 0) this.outTimeUs = n;
    } else if (key === 'progress') {
      const done = value === 'end';
      const total = Math.max(1, this.totalFrames);
      const frame = done ? this.totalFrames : Math.min(this.frame, this.totalFrames);
      this.emit({ frame, totalFrames: this.totalFrames, fraction: done ? 1 : Math.min(1, frame / total), outTimeMs: Math.round(this.outTimeUs / 1000), done });
    }
  }
}
