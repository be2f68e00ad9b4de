/** The engine worker as an Electron utility process: a Node process Electron supervises, off main's event loop. */
import { utilityProcess } from 'electron';
import type { EngineLauncher } from '../services/engine-host';
import type { WorkerToHost } from '../engine/worker-protocol';

export const utilityProcessLauncher: EngineLauncher = (entry) => {
  const child = utilityProcess.fork(entry.path, [], { serviceName: 'AnimateLCM Studio engine', stdio: 'inherit', execArgv: entry.execArgv });
  let exited = false;
  const exitListeners: ((code: number | null, reason: string) => void)[] = [];
  child.on('exit', (code) => {
    exited = true;
    for (const l of exitListeners) l(code, `exited with code ${code}`);
  });
  return {
    send: (msg) => {
      if (!exited) child.postMessage(msg);
    },
    onMessage: (l) => child.on('message', (m: unknown) => l(m as WorkerToHost)),
    onExit: (l) => exitListeners.push(l),
    kill: () => {
      if (!exited) child.kill();
    },
  };
};
