import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { sniffBytes } from './open';

/**
 * Model hashes as model sites show them, in one streaming pass (never the whole file in memory):
 * full-file SHA-256 (AutoV2 = its first 10 hex digits, as Civitai and A1111 show checkpoints) and, for
 * safetensors, SHA-256 of the bytes after the header (AutoV3 / A1111 LoRA short hash = first 12 hex), which
 * survives metadata edits. Hex is uppercase, as Civitai prints it.
 */
export interface ModelHashes {
  sha256: string;
  autov2: string;
  /** Tensor-data SHA-256 (safetensors only). */
  dataSha256?: string;
  autov3?: string;
}

export async function hashModelFile(path: string): Promise<ModelHashes> {
  const full = createHash('sha256');
  let data: ReturnType<typeof createHash> | undefined;
  let headerEnd = -1;
  let seen = 0;
  let head = Buffer.alloc(0);
  const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    full.update(chunk);
    if (headerEnd < 0 && head.length < 16) {
      head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
      if (head.length >= 9 || chunk.length === 0) {
        // Decided once, on the first bytes: only a safetensors file has a tensor-data hash.
        headerEnd = sniffBytes(head, Number.MAX_SAFE_INTEGER) === 'safetensors' ? 8 + Number(head.readBigUInt64LE(0)) : Number.POSITIVE_INFINITY;
        if (Number.isFinite(headerEnd)) data = createHash('sha256');
      }
    }
    if (data && Number.isFinite(headerEnd)) {
      const from = Math.max(0, headerEnd - seen);
      if (from < chunk.length) data.update(chunk.subarray(from));
    }
    seen += chunk.length;
  }
  const sha256 = full.digest('hex').toUpperCase();
  const out: ModelHashes = { sha256, autov2: sha256.slice(0, 10) };
  if (data && headerEnd <= seen) {
    out.dataSha256 = data.digest('hex').toUpperCase();
    out.autov3 = out.dataSha256.slice(0, 12);
  }
  return out;
}
