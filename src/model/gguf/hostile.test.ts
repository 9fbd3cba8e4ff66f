/**
 * Hostile GGUF headers: tests/fixtures/gguf/tiny-llama.gguf with one declared count, length or
 * size replaced by a huge value. Each import fails with a typed error naming what was wrong,
 * without allocating what the header claims (the process's RSS stays within a bound) and without
 * leaving an output folder behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, SpellError } from '../../core/errors.ts';
import { importModel } from '../import-model.ts';
import { readGgufHeader } from './reader.ts';

const FILE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'tests',
  'fixtures',
  'gguf',
  'tiny-llama.gguf',
);
const original = readFileSync(FILE);
const dir = mkdtempSync(join(tmpdir(), 'spell-gguf-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The byte offset just past metadata key `key` (its value type follows). */
function afterKey(buf: Buffer, key: string): number {
  const at = buf.indexOf(Buffer.from(key, 'utf8'));
  if (at < 8 || buf.readBigUInt64LE(at - 8) !== BigInt(key.length))
    throw new Error(`no key ${key}`);
  return at + key.length;
}

/** The tensor info of `name`: the offset of its n_dims field. */
function tensorInfo(buf: Buffer, name: string): number {
  const at = buf.lastIndexOf(Buffer.from(name, 'utf8'));
  return at + name.length;
}

type Patch = (b: Buffer) => void;
const cases: { what: string; patch: Patch; error: RegExp }[] = [
  {
    what: 'tensor count 2^62',
    patch: (b) => b.writeBigUInt64LE(2n ** 62n, 8),
    error: /implausible size|truncated GGUF/,
  },
  {
    what: 'metadata count 2^53 - 1',
    patch: (b) => b.writeBigUInt64LE(2n ** 53n - 1n, 16),
    error: /truncated GGUF|implausible size|unknown metadata value type|exceeds the file/,
  },
  {
    what: 'first key length 2^40',
    patch: (b) => b.writeBigUInt64LE(2n ** 40n, 24),
    error: /string length 1099511627776 exceeds the file/,
  },
  {
    what: 'token list length 2^50',
    // type u32 = 9 (array), item type u32 = 8 (string), then the u64 length
    patch: (b) => b.writeBigUInt64LE(2n ** 50n, afterKey(b, 'tokenizer.ggml.tokens') + 8),
    error: /array of 1125899906842624 items does not fit/,
  },
  {
    what: 'block count 10^9',
    patch: (b) => b.writeUInt32LE(1e9, afterKey(b, 'llama.block_count') + 4),
    error: /"llama.block_count" is 1000000000, but the file holds only 21 tensors/,
  },
  {
    what: 'embedding length 2^30',
    patch: (b) => b.writeUInt32LE(2 ** 30, afterKey(b, 'llama.embedding_length') + 4),
    error: /shape|hidden|head/,
  },
  {
    what: 'feed-forward length 2^31',
    patch: (b) => b.writeUInt32LE(2 ** 31, afterKey(b, 'llama.feed_forward_length') + 4),
    error: /shape/,
  },
  {
    what: 'a tensor 2^40 rows long',
    // n_dims u32, then ne[0], ne[1] as u64
    patch: (b) => b.writeBigUInt64LE(2n ** 40n, tensorInfo(b, 'token_embd.weight') + 4 + 8),
    error: /tensor "token_embd.weight" .* ends past the end of the file/,
  },
  {
    what: 'a tensor of 0 dimensions',
    patch: (b) => b.writeUInt32LE(0, tensorInfo(b, 'output_norm.weight')),
    error: /0 dimensions \(1 to 4\)/,
  },
  {
    what: 'alignment 0',
    patch: (b) => b.writeUInt32LE(0, afterKey(b, 'general.alignment') + 4),
    error: /bad general.alignment 0/,
  },
];

describe('hostile GGUF headers', () => {
  it('the fixture has every field these cases patch', () => {
    const g = readGgufHeader(FILE);
    expect(g.metadata.get('general.alignment')).toBe(32);
    expect(g.tensors.map((t) => t.name)).toContain('output_norm.weight');
  });

  it.each(cases)('$what: a typed error, bounded memory, no folder left', ({ patch, error }) => {
    const buf = Buffer.from(original);
    patch(buf);
    const file = join(dir, 'hostile.gguf');
    writeFileSync(file, buf);
    const out = join(dir, 'out');
    const rssBefore = process.memoryUsage().rss;
    let err: unknown;
    try {
      importModel(file, out);
    } catch (e) {
      err = e;
    }
    const grown = process.memoryUsage().rss - rssBefore;
    expect(err).toBeInstanceOf(SpellError);
    expect(String((err as Error).message)).toMatch(error);
    expect((err as Error).message).toContain(file);
    expect(grown).toBeLessThan(64 * 2 ** 20);
    expect(existsSync(out)).toBe(false);
  });

  it('a truncated tensor is a CheckpointError naming it', () => {
    const file = join(dir, 'cut.gguf');
    writeFileSync(file, original.subarray(0, original.length - 100));
    expect(() => importModel(file, join(dir, 'cut-out'))).toThrow(CheckpointError);
    expect(() => importModel(file, join(dir, 'cut-out'))).toThrow(
      /tensor ".*" .* ends past the end/,
    );
  });
});
