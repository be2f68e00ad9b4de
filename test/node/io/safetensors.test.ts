import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/shared/errors';
import { openSafetensors, writeSafetensors } from '../../../src/main/compiler/io/safetensors';
import { floatToHalf, halfToFloat } from '../../../src/main/compiler/io/dtype';
import { tempDir, writeFile } from './helpers';

const { dir, cleanup } = tempDir('st');
afterAll(cleanup);

/** A safetensors file from a raw header object and a data buffer, to craft invalid files. */
function craft(name: string, header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): string {
  let json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return writeFile(dir, name, Buffer.concat([len, json, data]));
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isStudioError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('safetensors reader', () => {
  it('reads the reference fixtures bit-exactly by byte range', () => {
    const path = 'test/fixtures/reference/unet2d/weights.safetensors';
    const t = openSafetensors(path);
    const whole = readFileSync(path);
    const n = Number(whole.readBigUInt64LE(0));
    const header = JSON.parse(whole.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
    expect(t.names().length).toBe(Object.keys(header).filter((k) => k !== '__metadata__').length);
    for (const name of t.names()) {
      const [b, e] = header[name].data_offsets;
      const expected = whole.subarray(8 + n + b, 8 + n + e);
      expect(Buffer.from(t.get(name)!.readRaw()).equals(expected)).toBe(true);
      const f = t.get(name)!.readF32();
      const copy = new Float32Array(new Uint8Array(expected).buffer);
      expect(Buffer.from(f.buffer).equals(Buffer.from(copy.buffer))).toBe(true);
    }
    t.close();
    // Views keep working after close (graph builders read lazily).
    expect(t.get(t.names()[0])!.readF32().length).toBeGreaterThan(0);
  });

  it('round-trips every dtype through the writer and converts to float32', () => {
    const halfBits = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x3555]);
    const bf = new Uint16Array([0x3f80, 0xc020, 0x4049]); // 1, -2.5, 3.140625
    const p = `${dir}/all.safetensors`;
    writeSafetensors(
      p,
      [
        { name: 'f32', dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 0, 3.25]) },
        { name: 'f64', dtype: 'F64', shape: [2], data: new Float64Array([1 / 3, -1e-3]) },
        { name: 'f16', dtype: 'F16', shape: [7], data: halfBits },
        { name: 'bf16', dtype: 'BF16', shape: [3], data: bf },
        { name: 'i64', dtype: 'I64', shape: [3], data: new BigInt64Array([0n, -5n, 76n]) },
        { name: 'i32', dtype: 'I32', shape: [2], data: new Int32Array([-7, 9]) },
        { name: 'i16', dtype: 'I16', shape: [1], data: new Int16Array([-300]) },
        { name: 'i8', dtype: 'I8', shape: [1], data: new Int8Array([-3]) },
        { name: 'u8', dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
        { name: 'bool', dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
        { name: 'scalar', dtype: 'F32', shape: [], data: new Float32Array([7]) },
        { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
      ],
      { format: 'pt', note: 'héllo' },
    );
    const t = openSafetensors(p);
    expect(t.metadata).toEqual({ format: 'pt', note: 'héllo' });
    const r = (n: string): number[] => Array.from(t.get(n)!.readF32());
    expect(r('f32')).toEqual([1.5, -2, 0, 3.25]);
    expect(r('f64')).toEqual([Math.fround(1 / 3), Math.fround(-1e-3)]);
    expect(r('f16')).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, -0, Math.fround(0.333251953125)]);
    expect(r('bf16')).toEqual([1, -2.5, 3.140625]);
    expect(r('i64')).toEqual([0, -5, 76]);
    expect(r('i32')).toEqual([-7, 9]);
    expect(r('i16')).toEqual([-300]);
    expect(r('i8')).toEqual([-3]);
    expect(r('u8')).toEqual([0, 255]);
    expect(r('bool')).toEqual([1, 0]);
    expect(t.get('scalar')!.shape).toEqual([]);
    expect(r('scalar')).toEqual([7]);
    expect(r('empty')).toEqual([]);
    // header is padded so the data buffer starts 8-aligned
    expect(t.header.dataStart % 8).toBe(0);
    t.close();
  });

  it('half-float conversion is exact and round-trips through floatToHalf', () => {
    for (let h = 0; h < 0x10000; h += 7) {
      const f = halfToFloat(h);
      if (Number.isNaN(f)) continue;
      expect(floatToHalf(f)).toBe(h);
    }
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(floatToHalf(1e6)).toBe(0x7c00);
  });

  it('rejects malformed headers with typed, actionable errors', () => {
    const four = new Uint8Array(16);
    expect(code(() => openSafetensors(writeFile(dir, 'zero.safetensors', new Uint8Array(0))))).toMatch(/^FILE_EMPTY/);
    expect(code(() => openSafetensors(writeFile(dir, 'short.safetensors', new Uint8Array(5))))).toMatch(/^FILE_TRUNCATED/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(200n * 1024n * 1024n);
    expect(code(() => openSafetensors(writeFile(dir, 'huge.safetensors', huge)))).toMatch(/^SAFETENSORS_INVALID.*limit/);
    const past = Buffer.alloc(16);
    past.writeBigUInt64LE(1000n);
    expect(code(() => openSafetensors(writeFile(dir, 'past.safetensors', past)))).toMatch(/^FILE_TRUNCATED/);
    expect(code(() => openSafetensors(craft('notjson.safetensors', '{"a": nope}')))).toMatch(/^SAFETENSORS_INVALID.*JSON/);
    expect(code(() => openSafetensors(craft('array.safetensors', '[1,2,3]')))).toMatch(/^SAFETENSORS_INVALID/);
    expect(code(() => openSafetensors(craft('deep.safetensors', `{"a":${'['.repeat(50)}${']'.repeat(50)}}`)))).toMatch(/^SAFETENSORS_INVALID.*nested/);
    expect(code(() => openSafetensors(craft('dtype.safetensors', { a: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, four)))).toMatch(/unknown dtype/);
    expect(code(() => openSafetensors(craft('fp8.safetensors', { a: { dtype: 'F8_E4M3', shape: [16], data_offsets: [0, 16] } }, four)))).toMatch(/8-bit float/);
    expect(code(() => openSafetensors(craft('size.safetensors', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, four)))).toMatch(/needs 12 bytes/);
    expect(code(() => openSafetensors(craft('shape.safetensors', { a: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, four)))).toMatch(/invalid shape/);
    expect(code(() => openSafetensors(craft('offs.safetensors', { a: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, four)))).toMatch(/invalid data_offsets/);
    expect(code(() => openSafetensors(craft('beyond.safetensors', { a: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, four)))).toMatch(/^FILE_TRUNCATED/);
    const overlap = { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
    expect(code(() => openSafetensors(craft('overlap.safetensors', overlap, four)))).toMatch(/overlaps/);
    const gap = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } };
    expect(code(() => openSafetensors(craft('gap.safetensors', gap, four)))).toMatch(/gap/);
    const trailing = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(code(() => openSafetensors(craft('trailing.safetensors', trailing, four)))).toMatch(/after the last tensor/);
    expect(code(() => openSafetensors(craft('md.safetensors', { __metadata__: [1] })))).toMatch(/__metadata__/);
    expect(code(() => openSafetensors(craft('noutf.safetensors', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'))))).toMatch(/SAFETENSORS_INVALID/);
    expect(code(() => openSafetensors(`${dir}/missing.safetensors`))).toMatch(/^FILE_NOT_FOUND/);
    expect(code(() => openSafetensors(dir))).toMatch(/^FILE_UNREADABLE.*folder/);
  });

  it('accepts a header that is not 8-aligned and metadata values that are not strings', () => {
    const t = openSafetensors(craft('unpadded.safetensors', { __metadata__: { n: 3 }, a: { dtype: 'U8', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([1, 2, 3]), false));
    expect(Array.from(t.get('a')!.readF32())).toEqual([1, 2, 3]);
    expect(t.metadata).toEqual({ n: '3' });
  });

  it('writes atomically: a failed write leaves no file and no temp behind', () => {
    const p = `${dir}/bad.safetensors`;
    expect(() => writeSafetensors(p, [{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/needs 12/);
    expect(() => readFileSync(p)).toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
