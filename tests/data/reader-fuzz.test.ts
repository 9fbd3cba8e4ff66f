/**
 * Mutated files fed to every reader (bounded runs): a corpus JSONL, a corpus parquet, a model
 * folder's safetensors and config, a tokenizer folder, a checkpoint folder and controller state,
 * and a GGUF model through the whole `spell model import`.
 * Each read either succeeds or throws one of spell's typed errors (which the CLI prints as one line,
 * exit 2) — never a TypeError, RangeError, an unhandled rejection or a hang.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, test } from 'vitest';
import { SpellError } from '../../src/core/errors.ts';
import { readCorpus } from '../../src/data/read/corpus.ts';
import { qwen3Config } from '../../src/model/index.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.ts';
import { importModel } from '../../src/model/import-model.ts';
import { readGgufHeader } from '../../src/model/gguf/reader.ts';
import { loadModelFolder } from '../../src/model/model-folder.ts';
import { createRandomModelFolder } from '../../src/model/random-folder.ts';
import { loadTokenizer } from '../../src/text/tokenizer.ts';
import { parseControllerState } from '../../src/train/controller-state.ts';

const ASSETS = fileURLToPath(new URL('../../assets/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'spell-reader-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Byte-level mutations: flips, overwrites, truncation, insertion, duplication. */
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('digits' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(buf: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(buf);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = b[at] ^ (1 << m.bit);
    else if (m.kind === 'set') b[at] = m.byte;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from('99999999999'), b.subarray(at)]);
  }
  return b;
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

/** Run `read` on mutated copies of `original` written to `file`: success or a SpellError only. */
async function fuzzFile(
  original: Uint8Array,
  file: string,
  read: () => unknown,
  numRuns: number,
  arbitrary: fc.Arbitrary<Mutation[]> = mutations,
): Promise<void> {
  // A library may leave a rejected promise behind after the read returned (hyparquet did).
  const stray: unknown[] = [];
  const onStray = (reason: unknown): void => void stray.push(reason);
  process.on('unhandledRejection', onStray);
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (ms) => {
        writeFileSync(file, apply(original, ms));
        try {
          await read();
        } catch (err) {
          if (!(err instanceof SpellError)) {
            throw new Error(`untyped error from ${file}: ${String(err)}`, { cause: err });
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
        if (stray.length > 0) throw new Error(`unhandled rejection: ${String(stray[0])}`);
      }),
      { numRuns, seed: 25, endOnFailure: true },
    );
  } finally {
    process.off('unhandledRejection', onStray);
  }
  writeFileSync(file, original);
}

describe('readers under mutated files', () => {
  test('corpus JSONL', async () => {
    const lines = readFileSync(join(ASSETS, 'corpus/train.jsonl'), 'utf8').split('\n').slice(0, 3);
    const file = join(root, 'c.jsonl');
    await fuzzFile(Buffer.from(`${lines.join('\n')}\n`), file, () => readCorpus([file]), 150);
  });

  test('corpus parquet', async () => {
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'data_source', data: ['docmath_reports', 'qa_x'] },
          { name: 'paragraphs', data: [['Revenue rose.'], ['A river.', 'A town.']] },
        ],
      }),
    );
    const file = join(root, 'c.parquet');
    await fuzzFile(bytes, file, () => readCorpus([file]), 400);
  });

  test('model folder: safetensors and config.json', async () => {
    const dir = join(root, 'model');
    createRandomModelFolder(dir, qwen3Config({ vocab_size: 64 }), 7);
    const weights = readFileSync(join(dir, 'model.safetensors'));
    await fuzzFile(weights, join(dir, 'model.safetensors'), () => loadModelFolder(dir), 60);
    const config = readFileSync(join(dir, 'config.json'));
    await fuzzFile(config, join(dir, 'config.json'), () => loadModelFolder(dir), 80);
  });

  test('tokenizer folder', async () => {
    const dir = join(root, 'tok');
    mkdirSync(dir, { recursive: true });
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      copyFileSync(join(ASSETS, 'model', f), join(dir, f));
    }
    let n = 0;
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      const original = readFileSync(join(dir, f));
      // Each read gets a fresh folder: loaded tokenizers are cached by path and mtime.
      await fuzzFile(
        original,
        join(dir, f),
        () => {
          const fresh = join(root, `tok-${++n}`);
          mkdirSync(fresh);
          for (const g of ['tokenizer.json', 'tokenizer_config.json']) {
            copyFileSync(join(dir, g), join(fresh, g));
          }
          return loadTokenizer(fresh);
        },
        60,
      );
    }
  });

  test('GGUF model import (header, metadata, tensor infos, tensor data)', async () => {
    const original = readFileSync(
      join(ASSETS, '..', 'tests', 'fixtures', 'gguf', 'tiny-llama.gguf'),
    );
    const file = join(root, 'm.gguf');
    let n = 0;
    const importOnce = (): void => {
      const out = join(root, `gguf-out-${++n}`);
      try {
        importModel(file, out);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    };
    // Most bytes are tensor data and tokenizer strings; half the runs aim at everything before
    // the tensor data (header, metadata, tensor infos), where the counts and sizes live.
    const dataOffset = readGgufHeader(
      join(ASSETS, '..', 'tests', 'fixtures', 'gguf', 'tiny-llama.gguf'),
    ).dataOffset;
    const headerMutations = fc.array(
      fc.oneof(
        mutation,
        fc.record({
          kind: fc.constant('set' as const),
          at: fc.nat({ max: dataOffset - 1 }),
          byte: fc.constantFrom(0, 0xff, 0x7f, 0x80),
        }),
      ),
      { minLength: 1, maxLength: 3 },
    );
    await fuzzFile(original, file, importOnce, 40);
    await fuzzFile(original, file, importOnce, 60, headerMutations);
  });

  test('checkpoint folder and controller state', async () => {
    const src = join(root, 'ckpt-model');
    createRandomModelFolder(src, qwen3Config({ vocab_size: 64 }), 8);
    const model = loadModelFolder(src);
    const ckpt = join(root, 'ckpt');
    saveCheckpoint(ckpt, model, { samplerVersion: 1 });
    for (const f of readdirSync(ckpt).filter((n) => !n.startsWith('.'))) {
      const original = readFileSync(join(ckpt, f));
      await fuzzFile(original, join(ckpt, f), () => loadCheckpoint(ckpt, loadModelFolder(src)), 25);
    }
    const controller = Buffer.from(
      JSON.stringify({
        version: 1,
        step: 2,
        sampler: {},
        memory: {},
        rng: {
          docs: [1, 2, 3, 4],
          letters: [1, 2, 3, 4],
          badCase: [1, 2, 3, 4],
          verifier: [1, 2, 3, 4],
        },
        seedCounter: 5,
        engineRef: 'checkpoints/engine/step-000002',
      }),
    );
    const file = join(root, 'controller.json');
    await fuzzFile(
      controller,
      file,
      () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(readFileSync(file, 'utf8'));
        } catch {
          return undefined; // the run directory reports unparsable JSON itself
        }
        return parseControllerState(parsed, file);
      },
      100,
    );
    expect(true).toBe(true);
  });
});
