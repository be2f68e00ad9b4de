import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Peak resident memory of this process over a window. onnxruntime's run() blocks the JS thread, so sampling
 * from JS cannot see the peak; the kernel's high-water mark (VmHWM) can. On Linux, writing "5" to
 * /proc/self/clear_refs resets VmHWM to the current RSS, which turns the process-lifetime peak into a
 * per-measurement one. Elsewhere we fall back to process.resourceUsage().maxRSS (lifetime peak; flagged).
 *
 * RSS counts the mmapped weight pages the run touched, as it should: they are memory the step needs.
 */

export interface PeakWindow {
  /** RSS when the window opened, bytes. */
  startRss: number;
  /** Closes the window: peak RSS inside it (bytes) and whether it is a true per-window peak. */
  stop(): { peak: number; perWindow: boolean; anon?: number; file?: number };
}

function statusField(field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export function openPeakWindow(): PeakWindow {
  const perWindow = resetHighWaterMark();
  const startRss = statusField('VmRSS') ?? process.memoryUsage().rss;
  return {
    startRss,
    stop: () => {
      const hwm = perWindow ? statusField('VmHWM') : undefined;
      const peak = hwm ?? process.resourceUsage().maxRSS * 1024;
      // current split of RSS: anonymous (arena, prepacked weights, JS) vs file-backed (mmapped weight pages)
      return { peak: Math.max(peak, process.memoryUsage().rss), perWindow: perWindow && hwm !== undefined, anon: statusField('RssAnon'), file: statusField('RssFile') };
    },
  };
}

export function currentRss(): number {
  return statusField('VmRSS') ?? process.memoryUsage().rss;
}

export const GiB = 2 ** 30;
export const MiB = 2 ** 20;

/** "anon 3.1 + file 5.2 GiB" for a window's end state, or '' where /proc is not available. */
export function rssSplit(p: { anon?: number; file?: number }): string {
  if (p.anon === undefined || p.file === undefined) return '';
  return `at the end: anonymous ${(p.anon / GiB).toFixed(2)} GiB + file-backed (mmapped weights) ${(p.file / GiB).toFixed(2)} GiB`;
}
