import { StudioError } from '../../../shared/errors';
import { bytesToF32 } from './dtype';
import { FileRange } from './file-range';
import { PICKLE_LIMITS, PyDict, PyStorage, PyTensor, readPickle, storageFromPid, type PickleContext, type PyValue } from './pickle';
import { DTYPE_BYTES, numel, type TensorTable, type TensorView } from './tensor';
import { ZipReader, type ZipEntry } from './zip';

/**
 * PyTorch checkpoints (`torch.save` zip format: `<archive>/data.pkl` + one STORED entry per storage under
 * `<archive>/data/<key>`). The pickle is walked as data (pickle.ts); tensors become lazy views that read their
 * storage by byte range, so a 2 GB .ckpt costs only the tensors actually used. Views that share a storage, start
 * at an offset, or are non-contiguous are gathered into contiguous C order on read.
 */

/** First bytes of a legacy (pre-1.6, non-zip) torch.save file: PROTO 2, LONG1 of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

export function isLegacyTorch(head: Uint8Array): boolean {
  if (head.length >= LEGACY_MAGIC.length && LEGACY_MAGIC.every((b, i) => head[i] === b)) return true;
  return head.length >= 2 && head[0] === 0x80 && head[1] >= 1 && head[1] <= 5;
}

/** The error for a pre-1.6 torch.save file (also raised by the sniffer, before any reader opens it). */
export function legacyTorchError(path: string): StudioError {
  return new StudioError(
    'CKPT_LEGACY',
    `${path} is an old-style PyTorch file (saved before PyTorch 1.6, not a zip archive), which the studio cannot read safely. Convert it to .safetensors (for example with a "ckpt to safetensors" converter) or download a .safetensors version.`,
    { path },
  );
}

class CkptTable implements TensorTable {
  readonly container = 'ckpt' as const;
  readonly metadata: Record<string, string> = {};
  private readonly views = new Map<string, TensorView>();
  private readonly zip: ZipReader;

  constructor(
    readonly path: string,
    private readonly file: FileRange,
  ) {
    const head = file.read(0, Math.min(file.size, 16));
    if (head[0] !== 0x50 || head[1] !== 0x4b) {
      if (isLegacyTorch(head)) throw legacyTorchError(path);
      if (head.length > 8 && head[8] === 0x7b) {
        throw new StudioError('FORMAT_MISMATCH', `${path} is really a .safetensors file, not a PyTorch checkpoint. Add it as a model and the studio reads it as safetensors, or rename it to .safetensors.`, { path, actual: 'safetensors' });
      }
      throw new StudioError('FORMAT_UNKNOWN', `${path} is not a PyTorch checkpoint.`, { path });
    }
    this.zip = new ZipReader(file);
    const pkl = [...this.zip.entries.values()].filter((e) => /(^|\/)data\.pkl$/.test(e.name)).sort((a, b) => a.name.length - b.name.length)[0];
    if (!pkl) {
      throw new StudioError('FORMAT_UNKNOWN', `${path} is a zip archive but not a PyTorch checkpoint (it has no data.pkl). If it is a downloaded bundle, unpack it and open the model file inside.`, { path });
    }
    const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
    if (pkl.size > PICKLE_LIMITS.maxBytes || pkl.compressedSize > PICKLE_LIMITS.maxBytes) {
      throw new StudioError('LIMIT_EXCEEDED', `${path}: its pickle is larger than any state dict needs (${pkl.size} bytes).`, { path });
    }
    const ctx: PickleContext = { path, persistentLoad: (pid) => storageFromPid(ctx, pid) };
    const root = readPickle(this.zip.readAll(pkl), ctx);
    this.collect(root, prefix);
  }

  private collect(root: PyValue, prefix: string): void {
    if (!(root instanceof PyDict)) {
      throw new StudioError('PICKLE_INVALID', `${this.path} does not hold a state dict (a mapping of names to tensors), so it is not a model the studio can read.`, { path: this.path });
    }
    // Lightning / training checkpoints wrap the weights: {"state_dict": {...}, "global_step": n, ...}.
    const wrapped = root.entries.find(([k, v]) => (k === 'state_dict' || k === 'model' || k === 'module') && v instanceof PyDict && hasTensor(v));
    const dict = wrapped ? (wrapped[1] as PyDict) : root;
    for (const [k, v] of root.entries) {
      if (typeof k === 'string' && (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint')) this.metadata[k] = String(v);
    }
    const seen = new Set<PyValue>();
    const walk = (d: PyDict, namePrefix: string, depth: number): void => {
      if (seen.has(d) || depth > 8) return;
      seen.add(d);
      for (const [k, v] of d.entries) {
        if (typeof k !== 'string') continue;
        const name = namePrefix + k;
        if (v instanceof PyTensor) this.views.set(name, this.view(name, v, prefix));
        else if (v instanceof PyDict) walk(v, `${name}.`, depth + 1);
      }
    };
    walk(dict, '', 0);
  }

  private view(name: string, t: PyTensor, prefix: string): TensorView {
    const s: PyStorage = t.storage;
    const entry: ZipEntry | undefined = this.zip.entries.get(`${prefix}data/${s.key}`);
    const fail = (why: string): StudioError =>
      new StudioError('PICKLE_INVALID', `${this.path}: tensor "${name}" ${why}. The file is damaged; download it again.`, { path: this.path, tensor: name });
    if (!entry) throw fail(`points at storage ${s.key}, which is missing from the archive`);
    const itemSize = DTYPE_BYTES[s.dtype];
    if (entry.size < s.numel * itemSize) throw fail(`needs ${s.numel * itemSize} bytes of storage but the archive holds ${entry.size}`);
    const count = numel(t.shape);
    if (!Number.isSafeInteger(count) || count > MAX_TENSOR_ELEMENTS) throw fail('is impossibly large');
    let last = t.offset;
    for (let i = 0; i < t.shape.length; i++) if (t.shape[i] > 0) last += (t.shape[i] - 1) * t.stride[i];
    if (count > 0 && (t.offset < 0 || last >= s.numel)) throw fail('reaches past the end of its storage');
    // A state dict never holds broadcast (overlapping) views; refusing them bounds what a read can allocate.
    if (count > s.numel) throw fail('is a view with more elements than its storage');
    let contiguous = true;
    for (let i = t.shape.length - 1, expect = 1; i >= 0; i--) {
      if (t.shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
      expect *= t.shape[i];
    }
    const readRaw = (): Uint8Array => {
      if (count === 0) return new Uint8Array(0);
      if (contiguous) return this.zip.readRange(entry, t.offset * itemSize, count * itemSize);
      // Read the span the view touches once, then gather element by element into C order.
      const span = this.zip.readRange(entry, t.offset * itemSize, (last - t.offset + 1) * itemSize);
      const out = new Uint8Array(count * itemSize);
      const idx = new Array<number>(t.shape.length).fill(0);
      for (let o = 0; o < count; o++) {
        let src = 0;
        for (let d = 0; d < idx.length; d++) src += idx[d] * t.stride[d];
        out.set(span.subarray(src * itemSize, (src + 1) * itemSize), o * itemSize);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < t.shape[d]) break;
          idx[d] = 0;
        }
      }
      return out;
    };
    return { name, dtype: s.dtype, shape: t.shape, readRaw, readF32: () => bytesToF32(readRaw(), s.dtype) };
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

function hasTensor(d: PyDict): boolean {
  return d.entries.some(([, v]) => v instanceof PyTensor || (v instanceof PyDict && v !== d && v.entries.some(([, w]) => w instanceof PyTensor)));
}

/** Open a PyTorch zip checkpoint (.ckpt/.pt/.pth/.bin) without executing anything in it. */
export function openCkpt(path: string): TensorTable {
  const file = new FileRange(path);
  try {
    if (file.size === 0) throw new StudioError('FILE_EMPTY', `${path} is empty (0 bytes). The download probably failed; download it again.`, { path });
    return new CkptTable(path, file);
  } catch (e) {
    file.close();
    throw e;
  }
}

