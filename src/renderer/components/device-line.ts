import type { DeviceInfo } from '../../shared/api';

/** "NVIDIA GeForce RTX 4090 · shader-f16 · 24 GiB" — the adapter behind a GPU provider, in one line. */
export function deviceLine(d: DeviceInfo): string {
  const parts = [d.vendor !== 'unknown' && !d.name.startsWith(d.vendor) ? `${d.vendor} ${d.name}` : d.name, d.shaderF16 ? 'shader-f16' : 'no shader-f16 (fp32)'];
  if (d.memoryBytes) parts.push(`${(d.memoryBytes / 2 ** 30).toFixed(d.memoryBytes >= 10 * 2 ** 30 ? 0 : 1)} GiB`);
  if (d.software) parts.push('software, slower than the CPU');
  return parts.join(' · ');
}
