import { execFileSync } from 'node:child_process';
import { totalmem } from 'node:os';
import type { ProviderName } from '../../../shared/domain/generation';

/**
 * How much memory this machine gives a generation. Total physical memory (or the container's limit when lower),
 * not what happens to be free: the answer must not change with what else is open, and the studio's own sessions
 * are part of the estimate. A share is kept back for the OS, the studio's main process and the page cache.
 */
export const USABLE_FRACTION = 0.85;

export interface MachineMemory {
  /** Physical memory (or the cgroup limit when lower), bytes. */
  hostTotal: number;
  /** What a generation may use of it. */
  hostUsable: number;
  /** GPU memory of the first GPU provider, when it can be read (CUDA through nvidia-smi); undefined otherwise. */
  deviceTotal?: number;
  deviceUsable?: number;
}

/** Caps the memory the studio plans with (GB), e.g. to leave room for other work; also how tests pick a machine size. */
export const MEMORY_LIMIT_ENV = 'ANIMATELCM_MEMORY_LIMIT_GB';

export function machineMemory(providers: readonly ProviderName[] = ['cpu']): MachineMemory {
  const constrained = process.constrainedMemory?.() ?? 0;
  // Node reports "no limit" as 0 or as a huge number depending on the version and cgroup setup.
  let hostTotal = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  const cap = Number(process.env[MEMORY_LIMIT_ENV]);
  if (process.env[MEMORY_LIMIT_ENV] && Number.isFinite(cap) && cap > 0) hostTotal = Math.min(hostTotal, Math.round(cap * 1e9));
  const m: MachineMemory = { hostTotal, hostUsable: Math.floor(hostTotal * USABLE_FRACTION) };
  if (providers[0] === 'cuda') {
    const device = nvidiaMemory();
    if (device !== undefined) {
      m.deviceTotal = device;
      m.deviceUsable = Math.floor(device * USABLE_FRACTION);
    }
  }
  return m;
}

/** The first NVIDIA GPU's memory in bytes, or undefined when nvidia-smi is absent or says nothing usable. */
function nvidiaMemory(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    const mib = Number(out.split('\n')[0].trim());
    return Number.isFinite(mib) && mib > 0 ? mib * 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}
