/**
 * The GGUF reader and every dequantisation kernel against the `gguf` Python package:
 * tests/fixtures/gguf/types.gguf was written by gguf's GGUFWriter (metadata of every value type,
 * one 2×256 tensor per ggml type from random blocks) and types.json holds what
 * gguf.quants.dequantize makes of each tensor (peers/models/make_gguf_vectors.py). Equality is
 * exact: both sides round every product to float32 in the same order.
 */
import { copyFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../core/errors.ts';
import { readGgufHeader, readGgufTensor } from './reader.ts';

const DIR = join(import.meta.dirname, '..', '..', '..', 'tests', 'fixtures', 'gguf');
const FILE = join(DIR, 'types.gguf');

interface Expected {
  readonly name: string;
  readonly type: string;
  readonly shape: number[];
  readonly float32Base64: string;
}
const expected = (
  JSON.parse(readFileSync(join(DIR, 'types.json'), 'utf8')) as { tensors: Expected[] }
).tensors;

describe('GGUF reader', () => {
  const g = readGgufHeader(FILE);

  it('reads metadata of every value type', () => {
    const m = g.metadata;
    expect(g.version).toBe(3);
    expect(m.get('general.architecture')).toBe('llama');
    expect([m.get('test.u8'), m.get('test.i8'), m.get('test.u16'), m.get('test.i16')]).toEqual([
      200, -100, 60000, -30000,
    ]);
    expect([m.get('test.u32'), m.get('test.i32'), m.get('test.f32')]).toEqual([
      4_000_000_000, -2_000_000_000, 0.25,
    ]);
    expect([m.get('test.bool'), m.get('test.string'), m.get('test.strings')]).toEqual([
      true,
      'héllo ✓',
      ['a', '', 'ß'],
    ]);
    expect([m.get('test.ints'), m.get('test.u64'), m.get('test.i64'), m.get('test.f64')]).toEqual([
      [1, -2, 3],
      2 ** 40 + 1,
      -(2 ** 40),
      1.5e300,
    ]);
  });

  it.each(expected)('dequantises $type exactly as gguf.quants does', (e) => {
    const t = g.tensors.find((x) => x.name === e.name);
    expect(t?.type.name).toBe(e.type);
    expect(t?.ne).toEqual(e.shape);
    if (!t) return;
    const got = readGgufTensor(g, t);
    const want = new Float32Array(Uint8Array.from(Buffer.from(e.float32Base64, 'base64')).buffer);
    expect(got.length).toBe(want.length);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) mismatches++;
    expect(mismatches).toBe(0);
  });

  it('a truncated file names the tensor and offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-gguf-'));
    const cut = join(dir, 'cut.gguf');
    copyFileSync(FILE, cut);
    const last = g.tensors[g.tensors.length - 1];
    truncateSync(cut, last.offset + 10);
    expect(() => readGgufHeader(cut)).toThrow(CheckpointError);
    expect(() => readGgufHeader(cut)).toThrow(
      new RegExp(`tensor "${last.name}" \\(Q6_K, 420 bytes at offset ${last.offset}\\)`),
    );
    truncateSync(cut, 200);
    expect(() => readGgufHeader(cut)).toThrow(/truncated GGUF: .* at byte \d+ \(reading metadata/);
  });

  it('a file that is not GGUF, or an unknown tensor type, is refused by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-gguf-'));
    const bad = join(dir, 'bad.gguf');
    writeFileSync(bad, 'not a gguf file at all');
    expect(() => readGgufHeader(bad)).toThrow(/not a GGUF file/);
    const bytes = readFileSync(FILE);
    // Patch the type id of the first tensor info (t.F32) to 9 (Q8_1, unsupported).
    const nameAt = bytes.indexOf('t.F32');
    bytes.writeUInt32LE(9, nameAt + 5 + 4 + 16);
    writeFileSync(bad, bytes);
    expect(() => readGgufHeader(bad)).toThrow(/ggml type 9 is not supported.*tensor "t.F32"/);
  });
});
