import { StudioError } from '../../../shared/errors';
import type { DType } from './tensor';

/**
 * A pickle reader that walks the opcodes AS DATA. Nothing is ever imported or called: a GLOBAL is looked up in
 * a fixed table of the names a PyTorch state dict needs, and anything outside it (os.system, builtins.eval,
 * subprocess, arbitrary __reduce__ targets) stops the read with PICKLE_UNSAFE before the next opcode runs.
 * Calls to the allowed names are interpreted here (OrderedDict() → dict, _rebuild_tensor_v2(...) → a tensor
 * reference), so the "objects" built are plain data. Sizes are bounded so hostile input cannot exhaust memory.
 */

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyList {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  readonly entries: Array<[PyValue, PyValue]> = [];
}
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly role: GlobalRole,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}
/** A storage named by a persistent id: ('storage', <StorageType>, key, location, numel). */
export class PyStorage {
  constructor(
    readonly dtype: DType,
    readonly key: string,
    readonly numel: number,
  ) {}
}
/** A tensor view onto a storage, in elements (not bytes). */
export class PyTensor {
  constructor(
    readonly storage: PyStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}
/** A harmless object we do not model (training callbacks, numpy scalars in a checkpoint's extras). */
export class PyOpaque {
  constructor(readonly what: string) {}
}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyTuple | PyList | PyDict | PyGlobal | PyStorage | PyTensor | PyOpaque;

type GlobalRole =
  | { kind: 'dict' }
  | { kind: 'storage'; dtype: DType }
  | { kind: 'rebuild_tensor' }
  | { kind: 'rebuild_parameter' }
  | { kind: 'rebuild_from_type' }
  | { kind: 'type' }
  | { kind: 'opaque' };

const STORAGES: Record<string, DType> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', UntypedStorage: 'U8', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

/** The whole vocabulary of names a checkpoint may mention. Keys are "module name". */
const ALLOWED: ReadonlyMap<string, GlobalRole> = new Map<string, GlobalRole>([
  ['collections OrderedDict', { kind: 'dict' }],
  ['torch._utils _rebuild_tensor_v2', { kind: 'rebuild_tensor' }],
  ['torch._utils _rebuild_tensor', { kind: 'rebuild_tensor' }],
  ['torch._utils _rebuild_parameter', { kind: 'rebuild_parameter' }],
  ['torch._utils _rebuild_parameter_with_state', { kind: 'rebuild_parameter' }],
  ['torch._tensor _rebuild_from_type_v2', { kind: 'rebuild_from_type' }],
  ['torch Tensor', { kind: 'type' }],
  ['torch.nn.parameter Parameter', { kind: 'type' }],
  ...Object.entries(STORAGES).map(([n, dtype]): [string, GlobalRole] => [`torch ${n}`, { kind: 'storage', dtype }]),
  // Extras that full training checkpoints (e.g. the original sd-v1-5 .ckpt) carry next to the weights. They are
  // never constructed: each becomes an inert placeholder.
  ['pytorch_lightning.callbacks.model_checkpoint ModelCheckpoint', { kind: 'opaque' }],
  ['numpy.core.multiarray scalar', { kind: 'opaque' }],
  ['numpy.core.multiarray _reconstruct', { kind: 'opaque' }],
  ['numpy dtype', { kind: 'opaque' }],
  ['numpy ndarray', { kind: 'opaque' }],
  ['_codecs encode', { kind: 'opaque' }],
  ['torch.torch_version TorchVersion', { kind: 'opaque' }],
]);

export const PICKLE_LIMITS = {
  maxBytes: 256 * 1024 * 1024,
  maxStack: 5_000_000,
  maxMemo: 5_000_000,
  maxLongBytes: 256,
  maxDims: 16,
};

export interface PickleContext {
  path: string;
  persistentLoad(pid: PyValue): PyValue;
}


function invalid(ctx: PickleContext, why: string): StudioError {
  return new StudioError('PICKLE_INVALID', `${ctx.path} is a PyTorch checkpoint that cannot be read: ${why}. The file may be damaged; download it again or use a .safetensors version.`, { path: ctx.path });
}

export function resolveGlobal(ctx: PickleContext, module: string, name: string): PyGlobal {
  const role = ALLOWED.get(`${module} ${name}`);
  if (!role) {
    throw new StudioError(
      'PICKLE_UNSAFE',
      `${ctx.path} contains code (${module}.${name}) that Python would run when loading it. The studio never runs code from model files and refuses this one. Get a .safetensors version of this model from a source you trust.`,
      { path: ctx.path, global: `${module}.${name}` },
    );
  }
  return new PyGlobal(module, name, role);
}

function asInt(ctx: PickleContext, v: PyValue, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw invalid(ctx, `${what} is not an integer`);
}

function intList(ctx: PickleContext, v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) && !(v instanceof PyList)) throw invalid(ctx, `${what} is not a tuple`);
  if (v.items.length > PICKLE_LIMITS.maxDims) throw invalid(ctx, `${what} has too many dimensions`);
  return v.items.map((x) => {
    const n = asInt(ctx, x, what);
    if (n < 0) throw invalid(ctx, `${what} is negative`);
    return n;
  });
}

/** Apply an allowed callable to its arguments, as data. */
function call(ctx: PickleContext, fn: PyValue, args: PyValue, depth = 0): PyValue {
  if (depth > 4) throw invalid(ctx, 'tensor constructors are nested too deeply');
  if (!(fn instanceof PyGlobal)) {
    if (fn instanceof PyOpaque) return new PyOpaque(fn.what);
    throw new StudioError('PICKLE_UNSAFE', `${ctx.path} asks to call something that is not a known function. The studio refuses it; use a .safetensors version of this model.`, { path: ctx.path });
  }
  const items = args instanceof PyTuple ? args.items : null;
  if (!items) throw invalid(ctx, `arguments to ${fn.qualified} are not a tuple`);
  const role = fn.role;
  switch (role.kind) {
    case 'dict':
      return new PyDict();
    case 'opaque':
      return new PyOpaque(fn.qualified);
    case 'rebuild_tensor': {
      const [storage, offset, size, stride] = items;
      if (!(storage instanceof PyStorage)) throw invalid(ctx, 'a tensor does not point at a storage');
      const shape = intList(ctx, size, 'tensor size');
      const strides = intList(ctx, stride, 'tensor stride');
      if (shape.length !== strides.length) throw invalid(ctx, 'a tensor has as many strides as dimensions');
      return new PyTensor(storage, asInt(ctx, offset, 'storage offset'), shape, strides);
    }
    case 'rebuild_parameter': {
      const data = items[0];
      if (!(data instanceof PyTensor)) throw invalid(ctx, 'a parameter does not hold a tensor');
      return data;
    }
    case 'rebuild_from_type': {
      // _rebuild_from_type_v2(func, new_type, args, state): the tensor is func(*args).
      const [inner, , innerArgs] = items;
      return call(ctx, inner, innerArgs, depth + 1);
    }
    case 'storage':
    case 'type':
      throw new StudioError('PICKLE_UNSAFE', `${ctx.path} asks to construct ${fn.qualified} directly, which a state dict never does. The studio refuses it.`, { path: ctx.path });
  }
}

/** Run the opcodes of one pickle and return the top-level value. */
export function readPickle(bytes: Uint8Array, ctx: PickleContext): PyValue {
  if (bytes.length > PICKLE_LIMITS.maxBytes) throw new StudioError('LIMIT_EXCEEDED', `${ctx.path}: its pickle is ${bytes.length} bytes, more than a state dict needs.`, { path: ctx.path });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;

  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length) throw invalid(ctx, 'its pickle ends in the middle of a value');
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw invalid(ctx, 'its pickle ends in the middle of a line');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const u8 = (): number => (need(1), bytes[pos++]);
  const u16 = (): number => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = (): number => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = (): number => {
    need(8);
    const n = view.getBigUint64(pos, true);
    pos += 8;
    if (n > BigInt(bytes.length)) throw invalid(ctx, 'a length in its pickle is larger than the pickle');
    return Number(n);
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw invalid(ctx, 'a string in its pickle is not valid UTF-8');
    }
  };
  const push = (v: PyValue): void => {
    if (stack.length >= PICKLE_LIMITS.maxStack) throw new StudioError('LIMIT_EXCEEDED', `${ctx.path}: its pickle nests too deeply.`, { path: ctx.path });
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) throw invalid(ctx, 'its pickle pops an empty stack');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) throw invalid(ctx, 'its pickle reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw invalid(ctx, 'its pickle closes a group it never opened');
    return stack.splice(m);
  };
  const put = (k: number): void => {
    if (memo.size >= PICKLE_LIMITS.maxMemo && !memo.has(k)) throw new StudioError('LIMIT_EXCEEDED', `${ctx.path}: its pickle memo is too large.`, { path: ctx.path });
    memo.set(k, top());
  };
  const get = (k: number): void => {
    if (!memo.has(k)) throw invalid(ctx, 'its pickle refers to a value it never stored');
    push(memo.get(k) as PyValue);
  };
  const setItems = (target: PyValue, kv: PyValue[]): void => {
    if (target instanceof PyOpaque) return;
    if (!(target instanceof PyDict) || kv.length % 2 !== 0) throw invalid(ctx, 'its pickle sets keys on something that is not a dict');
    for (let i = 0; i < kv.length; i += 2) target.entries.push([kv[i], kv[i + 1]]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (target instanceof PyOpaque) return;
    if (!(target instanceof PyList)) throw invalid(ctx, 'its pickle appends to something that is not a list');
    for (const it of items) target.items.push(it);
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length > PICKLE_LIMITS.maxLongBytes) throw new StudioError('LIMIT_EXCEEDED', `${ctx.path}: its pickle holds an absurdly large integer.`, { path: ctx.path });
    let n = 0n;
    for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) n -= 1n << BigInt(8 * b.length);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };
  const makeNew = (cls: PyValue): PyValue => {
    if (cls instanceof PyGlobal && cls.role.kind === 'dict') return new PyDict();
    if (cls instanceof PyGlobal && cls.role.kind === 'opaque') return new PyOpaque(cls.qualified);
    if (cls instanceof PyOpaque) return new PyOpaque(cls.what);
    throw new StudioError('PICKLE_UNSAFE', `${ctx.path} asks to create an object of an unexpected type. The studio refuses it; use a .safetensors version of this model.`, { path: ctx.path });
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is only a read-ahead hint
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length > 0) throw invalid(ctx, 'its pickle ends with a malformed stack');
        return stack[0];
      }
      case 0x28: // MARK: remembered as a stack position
        if (marks.length >= PICKLE_LIMITS.maxStack) throw new StudioError('LIMIT_EXCEEDED', `${ctx.path}: its pickle nests too deeply.`, { path: ctx.path });
        marks.push(stack.length);
        break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: push(top()); break; // DUP
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x4a: need(4); push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x8a: push(long(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = u32();
        push(long(take(n)));
        break;
      }
      case 0x47: need(8); push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x49: { // INT (text)
        const s = readLine().trim();
        if (s === '00') push(false);
        else if (s === '01') push(true);
        else if (/^-?\d{1,18}$/.test(s)) push(Number(s));
        else throw invalid(ctx, 'a text integer is malformed');
        break;
      }
      case 0x4c: { // LONG (text)
        const s = readLine().trim().replace(/L$/, '');
        if (!/^-?\d{1,600}$/.test(s)) throw invalid(ctx, 'a text integer is malformed');
        const n = BigInt(s);
        push(n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n);
        break;
      }
      case 0x46: { // FLOAT (text)
        const f = Number(readLine());
        if (Number.isNaN(f)) throw invalid(ctx, 'a text float is malformed');
        push(f);
        break;
      }
      case 0x53: { // STRING (text, quoted repr): kept as raw text
        const s = readLine();
        push(s.length >= 2 && (s[0] === "'" || s[0] === '"') ? s.slice(1, -1) : s);
        break;
      }
      case 0x56: push(readLine()); break; // UNICODE (raw-unicode-escape, kept as text)
      case 0x58: push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8c: push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x54: { // BINSTRING (py2 str)
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        push(new TextDecoder('latin1').decode(take(n)));
        break;
      }
      case 0x55: push(new TextDecoder('latin1').decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: push(take(u32()).slice()); break; // BINBYTES
      case 0x43: push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: push(take(u64()).slice()); break; // BINBYTES8
      case 0x96: push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x29: push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x85: push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74: push(new PyTuple(popMark())); break; // TUPLE
      case 0x5d: push(new PyList([])); break; // EMPTY_LIST
      case 0x6c: push(new PyList(popMark())); break; // LIST
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x8f: push(new PyList([])); break; // EMPTY_SET (as a list: never used for weights)
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: push(new PyList(popMark())); break; // FROZENSET
      case 0x71: put(u8()); break; // BINPUT
      case 0x72: put(u32()); break; // LONG_BINPUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x70: { // PUT (text)
        const k = Number(readLine());
        if (!Number.isSafeInteger(k)) throw invalid(ctx, 'a memo index is malformed');
        put(k);
        break;
      }
      case 0x68: get(u8()); break; // BINGET
      case 0x6a: get(u32()); break; // LONG_BINGET
      case 0x67: get(Number(readLine())); break; // GET (text)
      case 0x63: { // GLOBAL: "module\nname\n"
        const module = readLine();
        const name = readLine();
        push(resolveGlobal(ctx, module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw invalid(ctx, 'a global name is not text');
        push(resolveGlobal(ctx, module, name));
        break;
      }
      case 0x69: { // INST: "module\nname\n", args since MARK
        const g = resolveGlobal(ctx, readLine(), readLine());
        push(call(ctx, g, new PyTuple(popMark())));
        break;
      }
      case 0x6f: { // OBJ: class and args since MARK
        const items = popMark();
        if (items.length === 0) throw invalid(ctx, 'an object has no class');
        push(call(ctx, items[0], new PyTuple(items.slice(1))));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        push(call(ctx, fn, args));
        break;
      }
      case 0x81: { // NEWOBJ
        pop();
        push(makeNew(pop()));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop();
        pop();
        push(makeNew(pop()));
        break;
      }
      case 0x62: { // BUILD: state of plain data; only dicts take it (as items), placeholders ignore it
        const state = pop();
        const target = top();
        if (target instanceof PyDict && state instanceof PyDict) target.entries.push(...state.entries);
        else if (!(target instanceof PyOpaque) && !(target instanceof PyTensor) && !(target instanceof PyDict)) {
          throw new StudioError('PICKLE_UNSAFE', `${ctx.path} asks to set the state of an unexpected object. The studio refuses it.`, { path: ctx.path });
        }
        break;
      }
      case 0x51: push(ctx.persistentLoad(pop())); break; // BINPERSID
      case 0x50: push(ctx.persistentLoad(readLine())); break; // PERSID
      case 0x82: case 0x83: case 0x84: // EXT1/2/4: the extension registry is code
        throw new StudioError('PICKLE_UNSAFE', `${ctx.path} uses the pickle extension registry, which a state dict never does. The studio refuses it.`, { path: ctx.path });
      default:
        throw invalid(ctx, `its pickle has an unknown opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

/** Map a persistent id tuple to a storage, checking every field. */
export function storageFromPid(ctx: PickleContext, pid: PyValue): PyStorage {
  if (!(pid instanceof PyTuple) || pid.items.length < 5 || pid.items[0] !== 'storage') throw invalid(ctx, 'a storage reference is malformed');
  const [, type, key, , numel] = pid.items;
  if (!(type instanceof PyGlobal) || type.role.kind !== 'storage') throw invalid(ctx, 'a storage has an unknown type');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) throw invalid(ctx, 'a storage has a malformed name');
  const n = asInt(ctx, numel, 'storage size');
  if (n < 0) throw invalid(ctx, 'a storage has a negative size');
  return new PyStorage(type.role.dtype, key, n);
}
