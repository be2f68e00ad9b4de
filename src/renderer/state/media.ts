/** Paths of a finished generation's files, for media URLs. Frames are `frame_0000.png …` in `framesDir`. */
import type { GenerationOutputs } from '../../shared/domain/history';

export function framePath(outputs: GenerationOutputs, index: number): string | null {
  if (!outputs.framesDir) return null;
  const sep = outputs.framesDir.includes('\\') && !outputs.framesDir.includes('/') ? '\\' : '/';
  const dir = outputs.framesDir.replace(/[\\/]+$/, '');
  return `${dir}${sep}frame_${String(index).padStart(4, '0')}.png`;
}

/** All frame paths in order (empty when frames were not kept). */
export function framePaths(outputs: GenerationOutputs | null): string[] {
  if (!outputs?.framesDir) return [];
  const out: string[] = [];
  for (let i = 0; i < outputs.frameCount; i++) {
    const p = framePath(outputs, i);
    if (p) out.push(p);
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
