import { cpus, loadavg, totalmem, release, platform, arch } from 'node:os';
import { engineInfo } from '../src/main/engine/runtime/info';
import type { MachineInfo } from './report';

/** The machine a result came from: numbers without it mean little. */
export async function machineInfo(provider = 'cpu'): Promise<MachineInfo> {
  const info = await engineInfo();
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    onnxruntime: info.onnxruntimeVersion,
    provider,
    intraOpThreads: "onnxruntime default (one per physical core)",
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
