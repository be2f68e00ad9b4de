import { randomUUID } from 'node:crypto';

/**
 * Who owns a queued/running generation row: this process's pid plus a token unique to this process lifetime.
 * The token tells our own rows apart from a dead process whose pid was recycled; the pid lets another live
 * process (the CLI listing history while the app generates) leave the app's running rows alone.
 */
export const PROCESS_OWNER = { pid: process.pid, token: randomUUID() } as const;

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
