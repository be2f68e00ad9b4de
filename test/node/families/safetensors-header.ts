import { readFileSync } from 'node:fs';

/** Name → shape straight from a safetensors header (independent of the production reader, for cross-checks). */
export function openSafetensorsForTest(url: URL): Map<string, number[]> {
  const buf = readFileSync(url);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
  return new Map(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([k, v]) => [k, v.shape]));
}
