/**
 * safetensors read/write. Layout of a file: u64 little-endian header length N, then N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor bytes (offsets are relative to the end of the header).
 *
 * We write F32 only and read F32, BF16 and F16 (converted to float32 on the way in). Reads go
 * straight from the file into the caller's buffer, so a large checkpoint is never held twice.
 * Every problem is a CheckpointError naming the file and, where there is one, the tensor.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../core/errors.ts';

export type SafetensorsDtype = 'F32' | 'BF16' | 'F16';

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, BF16: 2, F16: 2 };
/** Headers larger than this are treated as corruption rather than allocated. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** One tensor's entry in the header. Offsets are absolute file positions. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** The parsed header of a safetensors file. */
export interface SafetensorsIndex {
  readonly file: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read and validate the header of a safetensors file.
 * @throws CheckpointError when the file is missing, truncated or the header is malformed
 */
export function readSafetensorsIndex(file: string): SafetensorsIndex {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new CheckpointError(`cannot open safetensors file ${file}`, { cause: err });
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) {
      throw new CheckpointError(`${file}: truncated file (${fileSize} bytes, no header length)`);
    }
    const lenBuf = Buffer.alloc(8);
    readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > fileSize) {
      throw new CheckpointError(
        `${file}: bad header length ${headerLen} for a ${fileSize}-byte file (truncated or not a safetensors file)`,
      );
    }
    const headerBuf = Buffer.alloc(headerLen);
    readSync(fd, headerBuf, 0, headerLen, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch (err) {
      throw new CheckpointError(`${file}: header is not valid JSON`, { cause: err });
    }
    if (!isRecord(header)) throw new CheckpointError(`${file}: header is not a JSON object`);
    const dataStart = 8 + headerLen;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (isRecord(value)) {
          metadata = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
        }
        continue;
      }
      tensors.set(name, parseEntry(file, name, value, dataStart, fileSize));
    }
    return { file, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

function parseEntry(
  file: string,
  name: string,
  value: unknown,
  dataStart: number,
  fileSize: number,
): TensorInfo {
  const bad = (what: string): never => {
    throw new CheckpointError(`${file}: tensor "${name}": ${what}`);
  };
  if (!isRecord(value)) return bad('header entry is not an object');
  const dtype = value.dtype;
  if (dtype !== 'F32' && dtype !== 'BF16' && dtype !== 'F16') {
    return bad(`dtype ${JSON.stringify(dtype)} is not supported (expected F32, BF16 or F16)`);
  }
  const shape = value.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    return bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  const offs = value.data_offsets;
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => Number.isInteger(o) && (o as number) >= 0)
  ) {
    return bad(`data_offsets ${JSON.stringify(offs)} is not [begin, end]`);
  }
  const [b, e] = offs as [number, number];
  const numel = (shape as number[]).reduce((a, d) => a * d, 1);
  if (e - b !== numel * BYTES[dtype]) {
    return bad(
      `data_offsets [${b}, ${e}] hold ${e - b} bytes, shape ${JSON.stringify(shape)} ${dtype} needs ${numel * BYTES[dtype]}`,
    );
  }
  if (dataStart + e > fileSize) {
    return bad(
      `data ends at byte ${dataStart + e} but the file has ${fileSize} bytes (truncated file)`,
    );
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e };
}

/**
 * Read one tensor into `out` (float32), checking its shape.
 * @throws CheckpointError naming the tensor when it is missing or has the wrong shape
 */
export function readTensorInto(
  index: SafetensorsIndex,
  name: string,
  expectedShape: readonly number[],
  out: Float32Array,
): void {
  const info = index.tensors.get(name);
  if (!info) throw new CheckpointError(`${index.file}: missing tensor "${name}"`);
  if (
    info.shape.length !== expectedShape.length ||
    info.shape.some((d, i) => d !== expectedShape[i])
  ) {
    throw new CheckpointError(
      `${index.file}: tensor "${name}" has shape ${JSON.stringify(info.shape)}, expected ${JSON.stringify(expectedShape)}`,
    );
  }
  const numel = expectedShape.reduce((a, d) => a * d, 1);
  if (out.length !== numel) throw new Error(`internal: output for ${name} has the wrong size`);
  const bytes = Buffer.alloc(info.end - info.begin);
  const fd = openSync(index.file, 'r');
  try {
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, info.begin + got);
      if (n === 0) throw new CheckpointError(`${index.file}: tensor "${name}" is truncated`);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  decodeInto(info.dtype, bytes, out);
}

function decodeInto(dtype: SafetensorsDtype, bytes: Buffer, out: Float32Array): void {
  const n = out.length;
  if (dtype === 'F32') {
    if (isLittleEndian) new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
    else for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(4 * i);
  } else if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const u32 = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) u32[i] = bytes.readUInt16LE(2 * i) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes.readUInt16LE(2 * i));
  }
}

/** IEEE 754 binary16 bits → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** One tensor to write. `data.length` must equal the product of `shape`. */
export interface TensorToWrite {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Write F32 tensors to `file` atomically (temp file in the same folder, fsync, rename).
 * @throws CheckpointError on a size/shape mismatch or duplicate name
 */
export function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata: Readonly<Record<string, string>> = {},
): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) {
      throw new CheckpointError(
        `${file}: tensor "${t.name}" has ${t.data.length} values, shape ${JSON.stringify(t.shape)} needs ${numel}`,
      );
    }
    if (t.name in header) throw new CheckpointError(`${file}: duplicate tensor "${t.name}"`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, lenBytes);
    writeAll(fd, headerBytes);
    for (const t of tensors) writeAll(fd, float32Bytes(t.data));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function float32Bytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (isLittleEndian) return view;
  const out = Buffer.alloc(data.byteLength);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], 4 * i);
  return out;
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
