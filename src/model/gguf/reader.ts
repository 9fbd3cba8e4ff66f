/**
 * GGUF files (llama.cpp's model format, versions 2 and 3): the header, the metadata key/values and
 * the tensor infos, read through a file descriptor so a multi-gigabyte file is never loaded whole;
 * tensor bytes are read one tensor at a time (see `readGgufTensor`). Layout:
 *   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
 *   kv_count × (string key, u32 type, value), tensor_count × (string name, u32 n_dims,
 *   u64 ne[n_dims], u32 ggml_type, u64 offset), padding to `general.alignment` (default 32), data.
 * Strings are u64 length + UTF-8 bytes. A truncated or inconsistent file gives a CheckpointError
 * naming the file, the byte offset and the key or tensor being read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { CheckpointError } from '../../core/errors.ts';
import { dequantize, ggmlTypeInfo } from './dequant.ts';
import type { GgmlTypeInfo } from './dequant.ts';

/** A metadata value: numbers (u64/i64 as number when exact, else bigint), strings, arrays. */
export type GgufValue = number | bigint | boolean | string | readonly GgufValue[];

/** One tensor's description; `ne` is GGUF order (fastest dimension first). */
export interface GgufTensorInfo {
  readonly name: string;
  readonly ne: readonly number[];
  readonly type: GgmlTypeInfo;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly bytes: number;
  readonly elements: number;
}

/** A parsed GGUF header. */
export interface GgufFile {
  readonly file: string;
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly dataOffset: number;
  readonly fileSize: number;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const CHUNK = 1 << 20;

/** A forward-only little-endian cursor over a file, buffered in 1 MiB windows. */
class Cursor {
  pos = 0;
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  /** What is being read, for error messages. */
  what = 'header';

  constructor(
    private readonly fd: number,
    private readonly file: string,
    readonly size: number,
  ) {}

  fail(msg: string): never {
    throw new CheckpointError(`${this.file}: ${msg} at byte ${this.pos} (reading ${this.what})`);
  }

  private need(n: number): number {
    if (this.pos + n > this.size) {
      this.fail(`truncated GGUF: ${n} more bytes needed, the file has ${this.size}`);
    }
    const rel = this.pos - this.bufStart;
    if (rel >= 0 && rel + n <= this.buf.length) return rel;
    const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    this.buf = Buffer.alloc(len);
    readSync(this.fd, this.buf, 0, len, this.pos);
    this.bufStart = this.pos;
    return 0;
  }

  u8(): number {
    const o = this.need(1);
    this.pos += 1;
    return this.buf.readUInt8(o);
  }
  i8(): number {
    const o = this.need(1);
    this.pos += 1;
    return this.buf.readInt8(o);
  }
  u16(): number {
    const o = this.need(2);
    this.pos += 2;
    return this.buf.readUInt16LE(o);
  }
  i16(): number {
    const o = this.need(2);
    this.pos += 2;
    return this.buf.readInt16LE(o);
  }
  u32(): number {
    const o = this.need(4);
    this.pos += 4;
    return this.buf.readUInt32LE(o);
  }
  i32(): number {
    const o = this.need(4);
    this.pos += 4;
    return this.buf.readInt32LE(o);
  }
  f32(): number {
    const o = this.need(4);
    this.pos += 4;
    return this.buf.readFloatLE(o);
  }
  f64(): number {
    const o = this.need(8);
    this.pos += 8;
    return this.buf.readDoubleLE(o);
  }
  u64big(): bigint {
    const o = this.need(8);
    this.pos += 8;
    return this.buf.readBigUInt64LE(o);
  }
  i64big(): bigint {
    const o = this.need(8);
    this.pos += 8;
    return this.buf.readBigInt64LE(o);
  }
  /** A u64 that must be a safe integer (counts, sizes, offsets). */
  count(): number {
    const v = this.u64big();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`implausible size ${v}`);
    return Number(v);
  }
  string(): string {
    const n = this.count();
    if (n > this.size - this.pos) this.fail(`string length ${n} exceeds the file`);
    const o = this.need(n);
    this.pos += n;
    return this.buf.toString('utf8', o, o + n);
  }
}

function exactOrBig(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

/** The fewest bytes a value of each metadata type takes (a string or array: its u64 length). */
const MIN_VALUE_BYTES: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  8: 8,
  9: 12,
  10: 8,
  11: 8,
  12: 8,
};

function readValue(c: Cursor, type: number, depth: number): GgufValue {
  switch (type) {
    case 0:
      return c.u8();
    case 1:
      return c.i8();
    case 2:
      return c.u16();
    case 3:
      return c.i16();
    case 4:
      return c.u32();
    case 5:
      return c.i32();
    case 6:
      return c.f32();
    case 7:
      return c.u8() !== 0;
    case 8:
      return c.string();
    case 9: {
      if (depth > 2) c.fail('arrays nested too deeply');
      const itemType = c.u32();
      const n = c.count();
      // Every item takes at least this many bytes, so a declared length the rest of the file
      // cannot hold is refused before anything is allocated for it.
      const least = MIN_VALUE_BYTES[itemType] ?? c.fail(`unknown array item type ${itemType}`);
      if (n * least > c.size - c.pos) {
        c.fail(`array of ${n} items does not fit in the ${c.size - c.pos} bytes left`);
      }
      const out: GgufValue[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(c, itemType, depth + 1));
      return out;
    }
    case 10:
      return exactOrBig(c.u64big());
    case 11:
      return exactOrBig(c.i64big());
    case 12:
      return c.f64();
    default:
      return c.fail(`unknown metadata value type ${type}`);
  }
}

/**
 * Read a GGUF file's header: metadata and tensor infos (no tensor data).
 * @throws CheckpointError naming the file, offset and key/tensor on a bad magic, an unsupported
 *   version, a truncated header, an unknown tensor type or a tensor past the end of the file
 */
export function readGgufHeader(file: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new CheckpointError(`cannot open GGUF file ${file}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    const c = new Cursor(fd, file, size);
    if (c.u32() !== MAGIC) {
      c.pos = 0;
      c.fail('not a GGUF file (expected the magic "GGUF")');
    }
    const version = c.u32();
    if (version !== 2 && version !== 3) c.fail(`GGUF version ${version} is not supported (2, 3)`);
    const tensorCount = c.count();
    const kvCount = c.count();
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      c.what = `metadata entry ${i}`;
      const key = c.string();
      c.what = `metadata "${key}"`;
      metadata.set(key, readValue(c, c.u32(), 0));
    }
    const raw: { name: string; ne: number[]; type: GgmlTypeInfo; rel: number }[] = [];
    for (let i = 0; i < tensorCount; i++) {
      c.what = `tensor info ${i}`;
      const name = c.string();
      c.what = `tensor "${name}"`;
      const nDims = c.u32();
      if (nDims < 1 || nDims > 4) c.fail(`${nDims} dimensions (1 to 4)`);
      const ne: number[] = [];
      for (let d = 0; d < nDims; d++) ne.push(c.count());
      const typeId = c.u32();
      const type = ggmlTypeInfo(typeId) ?? c.fail(`ggml type ${typeId} is not supported`);
      raw.push({ name, ne, type, rel: c.count() });
    }
    const align = metadata.get('general.alignment') ?? 32;
    const alignment =
      typeof align === 'number' && Number.isInteger(align) && align > 0 && align <= 1 << 20
        ? align
        : c.fail(`bad general.alignment ${String(align)}`);
    const dataOffset = Math.ceil(c.pos / alignment) * alignment;
    const tensors = raw.map(({ name, ne, type, rel }): GgufTensorInfo => {
      const elements = ne.reduce((a, b) => a * b, 1);
      if (ne[0] % type.blockSize !== 0) {
        throw new CheckpointError(
          `${file}: tensor "${name}" has ${ne[0]} columns, not a multiple of the ${type.name} block size ${type.blockSize}`,
        );
      }
      const bytes = (elements / type.blockSize) * type.blockBytes;
      const offset = dataOffset + rel;
      if (offset + bytes > size) {
        throw new CheckpointError(
          `${file}: truncated GGUF: tensor "${name}" (${type.name}, ${bytes} bytes at offset ${offset}) ends past the end of the file (${size} bytes)`,
        );
      }
      return { name, ne, type, offset, bytes, elements };
    });
    return { file, version, metadata, tensors, dataOffset, fileSize: size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Read one tensor's bytes and dequantise them to float32 (GGUF order: ne[0] fastest, which is a
 * row-major (ne[1], ne[0]) matrix — HF's (out, in) Linear layout).
 * @throws CheckpointError naming the tensor and offset when the read comes up short
 */
export function readGgufTensor(gguf: GgufFile, t: GgufTensorInfo): Float32Array {
  const fd = openSync(gguf.file, 'r');
  try {
    const bytes = Buffer.alloc(t.bytes);
    let got = 0;
    while (got < t.bytes) {
      const n = readSync(fd, bytes, got, t.bytes - got, t.offset + got);
      if (n === 0) {
        throw new CheckpointError(
          `${gguf.file}: truncated GGUF: tensor "${t.name}" needs ${t.bytes} bytes at offset ${t.offset}, got ${got}`,
        );
      }
      got += n;
    }
    const out = new Float32Array(t.elements);
    dequantize(t.type, bytes, out);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A metadata value of the expected kind, or a CheckpointError naming the key. */
export function ggufMeta(gguf: GgufFile, key: string, kind: 'number'): number;
export function ggufMeta(gguf: GgufFile, key: string, kind: 'string'): string;
export function ggufMeta(gguf: GgufFile, key: string, kind: 'number' | 'string'): number | string {
  const v = gguf.metadata.get(key);
  if (typeof v !== kind) {
    throw new CheckpointError(
      `${gguf.file}: metadata "${key}" is ${v === undefined ? 'missing' : JSON.stringify(typeof v === 'bigint' ? String(v) : v)}, expected a ${kind}`,
    );
  }
  return v as number | string;
}
