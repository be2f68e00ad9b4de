import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * When the process with this pid started, in clock ticks since boot (Linux `/proc/<pid>/stat`, field 22), as a
 * base-36 string; undefined where there is no /proc or the process is gone. A pid is reused once its process
 * dies (in a container the CLI often gets the same small pid run after run); pid + start time is not.
 */
export function processStartMark(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so count fields after the last ')'.
    const ticks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return ticks && /^\d+$/.test(ticks) ? BigInt(ticks).toString(36) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who owns a queued/running generation row: this process's pid plus a token unique to this process lifetime.
 * The token tells our own rows apart from a dead process whose pid was recycled; the pid lets another live
 * process (the CLI listing history while the app generates) leave the app's running rows alone.
 * `start` (processStartMark) does the same job for temporary files, whose names carry `marker`.
 */
export const PROCESS_OWNER = { pid: process.pid, token: randomUUID(), start: processStartMark(process.pid) } as const;

/** What a temporary file's name says about its writer: `<pid>` or `<pid>.<start mark>`. */
export interface OwnerMarker {
  pid: number;
  start?: string;
}

/** This process's marker as it appears in temporary names. */
export const OWNER_MARKER = PROCESS_OWNER.start === undefined ? String(PROCESS_OWNER.pid) : `${PROCESS_OWNER.pid}.${PROCESS_OWNER.start}`;

/** `<pid>` or `<pid>.<start mark>` → the marker; undefined when it is neither. */
export function parseOwnerMarker(text: string): OwnerMarker | undefined {
  const m = /^(\d+)(?:\.([0-9a-z]+))?$/.exec(text);
  if (!m) return undefined;
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return m[2] === undefined ? { pid } : { pid, start: m[2] };
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * True while the marker's writer may still be running: its pid is alive and, when the marker has a start mark
 * and this system can read one, the process with that pid is the same one (not a later process given the pid).
 */
export function ownerAlive(owner: OwnerMarker): boolean {
  if (owner.pid === PROCESS_OWNER.pid) return owner.start === undefined || PROCESS_OWNER.start === undefined || owner.start === PROCESS_OWNER.start;
  if (!processAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const now = processStartMark(owner.pid);
  return now === undefined || now === owner.start;
}
