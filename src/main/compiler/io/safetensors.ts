import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { StudioError } from '../../../shared/errors';
import { bytesToF32, isDType } from './dtype';
import { FileRange } from './file-range';
import { DTYPE_BYTES, numel, type DType, type TensorTable, type TensorView } from './tensor';

/**
 * safetensors (https://huggingface.co/docs/safetensors): u64 LE header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the data buffer.
 * Everything in the header is checked before any tensor is trusted, because files come from the internet:
 * sizes are bounded, offsets must tile the data buffer exactly (no overlaps, no gaps, nothing past the end),
 * and each tensor's byte length must equal numel × dtype size.
 */
export const SAFETENSORS_LIMITS = {
  /** Same bound as the reference implementation. */
  maxHeaderBytes: 100 * 1024 * 1024,
  /**
   * SD1.5 with EMA weights has ~2 200 tensors, an SDXL LyCORIS a few thousand: 100 000 leaves ample room while a
   * hostile header of a million entries is refused before JSON.parse spends seconds and gigabytes on it.
   */
  maxTensors: 100_000,
  maxJsonDepth: 6,
  maxRank: 16,
  maxNameLength: 4096,
};

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Bytes before the data buffer (8 + header length); tensor-data hashes (AutoV3) start here. */
  dataStart: number;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

function invalid(path: string, why: string, details: Record<string, unknown> = {}): StudioError {
  return new StudioError(
    'SAFETENSORS_INVALID',
    `${path} is not a valid .safetensors file: ${why}. Download it again; if it keeps failing, the file is damaged at its source.`,
    { path, ...details },
  );
}

function tooManyTensors(path: string): StudioError {
  const limit = SAFETENSORS_LIMITS.maxTensors;
  return new StudioError(
    'LIMIT_EXCEEDED',
    `${path} lists more than ${limit.toLocaleString('en-US')} tensors in its header, the most the studio reads (an SD1.5 checkpoint has about 1,100). It is not a model the studio can use.`,
    { path, limit: 'tensors', max: limit },
  );
}

/**
 * One pass over the raw header bytes before JSON.parse runs: nesting depth and the number of top-level entries,
 * counted outside strings (UTF-8 continuation bytes are never ASCII, so scanning bytes is exact). It stops as soon
 * as a limit is passed, so a hostile header costs a scan of its first entries, not a parse of all of them.
 */
function scanHeader(bytes: Uint8Array, limits: { depth: number; entries: number }): { depth: number; entries: number } {
  let depth = 0;
  let max = 0;
  let entries = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
      // A string that opens at depth 1 right after "{" or "," is a key: one top-level entry.
      if (depth === 1 && isKeyStart(bytes, i)) {
        if (++entries > limits.entries) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limits.depth) break;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: max, entries };
}

/** True when the previous non-whitespace byte before `i` is "{" or "," (so the string at `i` is an object key). */
function isKeyStart(bytes: Uint8Array, i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const c = bytes[j];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b || c === 0x2c;
  }
  return false;
}

/** Parse and validate the header of an open file. Exported for hashing and `inspect`. */
export function readSafetensorsHeader(file: FileRange): SafetensorsHeader {
  const path = file.path;
  if (file.size === 0) {
    throw new StudioError('FILE_EMPTY', `${path} is empty (0 bytes). The download probably failed; download it again.`, { path });
  }
  if (file.size < 8) {
    throw new StudioError('FILE_TRUNCATED', `${path} is only ${file.size} bytes long, too short to be a model. Download it again.`, { path });
  }
  const lenBytes = file.read(0, 8);
  if (lenBytes[0] === 0x50 && lenBytes[1] === 0x4b) {
    throw new StudioError('FORMAT_MISMATCH', `${path} is really a PyTorch checkpoint (.ckpt), not a .safetensors file. Add it as a model and the studio reads it safely as a checkpoint, or rename it to .ckpt.`, { path, actual: 'ckpt' });
  }
  const n64 = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (n64 > BigInt(SAFETENSORS_LIMITS.maxHeaderBytes)) {
    const limitMb = SAFETENSORS_LIMITS.maxHeaderBytes / (1024 * 1024);
    // The length field is never echoed: when this is not a safetensors file at all, it is 8 bytes of someone's file.
    if (n64 + 8n <= BigInt(file.size) && file.read(8, 1)[0] === 0x7b) {
      throw new StudioError(
        'LIMIT_EXCEEDED',
        `${path} has a header larger than ${limitMb} MB, the most the studio reads (a model's header is a few MB at most). It is not a model the studio can use.`,
        { path, limit: 'headerBytes', max: SAFETENSORS_LIMITS.maxHeaderBytes },
      );
    }
    throw invalid(path, `its header length field is over the ${limitMb} MB limit (or it is not a .safetensors file)`);
  }
  const n = Number(n64);
  if (n < 2) throw invalid(path, 'its header is empty');
  if (8 + n > file.size) {
    throw new StudioError('FILE_TRUNCATED', `${path} is cut off: its header alone needs ${8 + n} bytes but the file has ${file.size}. The download is incomplete; download it again.`, { path, headerLength: n, size: file.size });
  }
  const raw = file.read(8, n);
  if (raw[0] !== 0x7b) throw invalid(path, 'its header does not start with "{"');
  const scanned = scanHeader(raw, { depth: SAFETENSORS_LIMITS.maxJsonDepth, entries: SAFETENSORS_LIMITS.maxTensors + 1 });
  if (scanned.depth > SAFETENSORS_LIMITS.maxJsonDepth) throw invalid(path, 'its header is nested too deeply');
  if (scanned.entries > SAFETENSORS_LIMITS.maxTensors + 1) throw tooManyTensors(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw invalid(path, 'its header is not UTF-8 text');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the fault; the header may not be a model's, so it is not shown.
    throw invalid(path, 'its header is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(path, 'its header is not a JSON object');

  const dataStart = 8 + n;
  const dataLength = file.size - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  const obj = json as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > SAFETENSORS_LIMITS.maxTensors + 1) throw tooManyTensors(path);
  for (const name of keys) {
    const value = obj[name];
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, '__metadata__ is not an object');
      // The format says str → str; a few writers store numbers or lists, which we keep as JSON text.
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
      continue;
    }
    if (name.length > SAFETENSORS_LIMITS.maxNameLength) throw invalid(path, 'a tensor name is unreasonably long');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(path, `entry "${name}" is not an object`, { tensor: name });
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(e.dtype)) {
      const what = typeof e.dtype === 'string' && e.dtype.startsWith('F8')
        ? `tensor "${name}" is stored as ${e.dtype} (8-bit float), which the studio cannot read yet; use an fp16 or fp32 version of this model`
        : `tensor "${name}" has an unknown dtype ${JSON.stringify(e.dtype)}`;
      throw invalid(path, what, { tensor: name });
    }
    if (!Array.isArray(e.shape) || e.shape.length > SAFETENSORS_LIMITS.maxRank || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw invalid(path, `tensor "${name}" has an invalid shape`, { tensor: name });
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw invalid(path, `tensor "${name}" has invalid data_offsets`, { tensor: name });
    }
    const shape = e.shape as number[];
    const count = numel(shape);
    const bytes = count * DTYPE_BYTES[e.dtype];
    if (!Number.isSafeInteger(bytes) || bytes !== offs[1] - offs[0]) {
      throw invalid(path, `tensor "${name}" (${e.dtype} [${shape.join(',')}]) needs ${bytes} bytes but its data_offsets span ${offs[1] - offs[0]}`, { tensor: name });
    }
    if (offs[1] > dataLength) {
      throw new StudioError('FILE_TRUNCATED', `${path} is cut off: tensor "${name}" ends at byte ${dataStart + offs[1]} but the file has ${file.size}. The download is incomplete; download it again.`, { path, tensor: name });
    }
    entries.push({ name, dtype: e.dtype, shape, begin: dataStart + offs[0], end: dataStart + offs[1] });
  }
  // Offsets must tile the buffer: sort by start, each must begin where the previous ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const e of sorted) {
    if (e.begin < at) throw invalid(path, `tensor "${e.name}" overlaps another tensor`, { tensor: e.name });
    if (e.begin > at) throw invalid(path, `there is a gap before tensor "${e.name}"`, { tensor: e.name });
    at = e.end;
  }
  if (at !== file.size) throw invalid(path, `${file.size - at} bytes after the last tensor are not described by the header`);
  return { dataStart, entries, metadata };
}

class SafetensorsTable implements TensorTable {
  readonly container = 'safetensors' as const;
  readonly metadata: Record<string, string>;
  readonly header: SafetensorsHeader;
  private readonly views = new Map<string, TensorView>();

  constructor(
    readonly path: string,
    private readonly file: FileRange,
  ) {
    this.header = readSafetensorsHeader(file);
    this.metadata = this.header.metadata;
    for (const e of this.header.entries) {
      const readRaw = (): Uint8Array => file.read(e.begin, e.end - e.begin);
      this.views.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, readRaw, readF32: () => bytesToF32(readRaw(), e.dtype) });
    }
  }

  names(): string[] {
    return [...this.views.keys()];
  }
  get(name: string): TensorView | undefined {
    return this.views.get(name);
  }
  close(): void {
    this.file.close();
  }
}

/** Open a .safetensors file: header parsed and validated now, tensors read by byte range on demand. */
export function openSafetensors(path: string): TensorTable & { header: SafetensorsHeader } {
  const file = new FileRange(path);
  try {
    return new SafetensorsTable(path, file);
  } catch (e) {
    file.close();
    throw e;
  }
}

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
  data: ArrayBufferView;
}

/**
 * Write a .safetensors file atomically (temp file + rename), tensors in the given order, header padded with
 * spaces to 8 bytes as the reference writer does so the data buffer is aligned.
 */
export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (t.name === '__metadata__' || seen.has(t.name)) throw new Error(`writeSafetensors: duplicate or reserved name "${t.name}"`);
    seen.add(t.name);
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`writeSafetensors: ${t.name} has ${t.data.byteLength} bytes, ${t.dtype} [${t.shape.join(',')}] needs ${bytes}`);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    for (const t of tensors) writeSync(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw e;
  }
}
