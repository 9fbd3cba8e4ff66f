import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetMetadata, type SchemaElement } from 'hyparquet';
import { afterAll, describe, expect, test } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { readCorpus } from './corpus.ts';
import { readJsonl } from './jsonl.ts';
import { readParquet } from './parquet.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-data-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

/**
 * A zstd frame (RFC 8878) made of raw (stored) blocks: a valid zstd stream that any decoder must
 * accept. Node 20 has no zstd compressor, so this is how the tests get an honest zstd fixture.
 */
function zstdRawFrame(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [
    // magic, descriptor (4-byte content size, single segment), content size
    Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xa0),
    Uint8Array.of(
      data.length & 255,
      (data.length >> 8) & 255,
      (data.length >> 16) & 255,
      data.length >>> 24,
    ),
  ];
  const max = 1 << 17;
  let off = 0;
  do {
    const n = Math.min(max, data.length - off);
    const header = (n << 3) | (off + n >= data.length ? 1 : 0); // block type 0 = raw
    parts.push(Uint8Array.of(header & 255, (header >> 8) & 255, (header >> 16) & 255));
    parts.push(data.subarray(off, off + n));
    off += n;
  } while (off < data.length);
  return Buffer.concat(parts);
}

/** The reference layout: data_source, paragraphs (list), question_id (int64), extra_info (struct). */
const REFERENCE_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 4 },
  { name: 'data_source', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'paragraphs', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'question_id', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 1 },
  { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
];

function referenceParquet(
  codec: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'ZSTD',
  rows: { source: string; paragraphs: string[] | null; id: bigint | null }[],
): Uint8Array {
  const buffer = parquetWriteBuffer({
    codec,
    compressors: {
      GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)),
      ZSTD: zstdRawFrame,
    },
    schema: REFERENCE_SCHEMA,
    columnData: [
      { name: 'data_source', data: rows.map((r) => r.source) },
      { name: 'paragraphs', data: rows.map((r) => r.paragraphs) },
      { name: 'question_id', data: rows.map((r) => r.id) },
      { name: 'extra_info', data: rows.map((_, i) => ({ index: BigInt(100 + i) })) },
    ],
  });
  return new Uint8Array(buffer);
}

const GOOD_ROWS = [
  { source: 'docmath_reports', paragraphs: ['Revenue rose.', 'Costs fell.'], id: 7n },
  { source: 'ultrafineweb_c12', paragraphs: ['A river.', 'A town.', 'A person.'], id: 8n },
];

describe('parquet reader (reference layout)', () => {
  test.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD'] as const)(
    '%s file reads back every cluster, int64 ids as decimal strings',
    async (codec) => {
      const bytes = referenceParquet(codec, GOOD_ROWS);
      // The fixture really uses the codec under test.
      const meta = parquetMetadata(bytes.buffer as ArrayBuffer);
      expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe(codec);
      const file = write(`ref-${codec}.parquet`, bytes);
      const result = await readParquet(file);
      expect(result.rows).toBe(2);
      expect(result.clusters).toEqual([
        { id: '7', source: 'docmath_reports', documents: ['Revenue rose.', 'Costs fell.'] },
        { id: '8', source: 'ultrafineweb_c12', documents: ['A river.', 'A town.', 'A person.'] },
      ]);
    },
  );

  test('a missing question_id falls back to extra_info.index', async () => {
    const file = write(
      'ref-noid.parquet',
      referenceParquet('SNAPPY', [{ source: 'docmath', paragraphs: ['x'], id: null }]),
    );
    expect((await readParquet(file)).clusters[0].id).toBe('100');
  });

  test('a truncated file is a DataError naming the file; with skipBad it counts one corrupt file', async () => {
    const whole = referenceParquet('SNAPPY', GOOD_ROWS);
    const file = write('truncated.parquet', whole.subarray(0, whole.length - 20));
    await expect(readParquet(file)).rejects.toThrow(/truncated\.parquet: cannot read parquet/);
    await expect(readParquet(file)).rejects.toBeInstanceOf(DataError);
    const skipped = await readParquet(file, { skipBad: true });
    expect(skipped.clusters).toEqual([]);
    expect(skipped.skipped).toEqual({ corrupt_file: 1 });
  });

  test('a schema column renamed while another chunk is damaged: one DataError, no stray rejection', async () => {
    const bytes = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'data_source', data: ['docmath_reports', 'qa_x'] },
          { name: 'paragraphs', data: [['Revenue rose.'], ['A river.', 'A town.']] },
        ],
      }),
    );
    // The footer's schema names 'paragraphs' before the column chunks' own paths do.
    const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
    bytes[bytes.indexOf('paragraphs', footer) + 1] = 'r'.charCodeAt(0);
    bytes[4] = 0xff; // the first page header of data_source
    const stray: unknown[] = [];
    const onStray = (reason: unknown): void => void stray.push(reason);
    process.on('unhandledRejection', onStray);
    try {
      const file = write('renamed.parquet', bytes);
      await expect(readParquet(file)).rejects.toThrow(
        /renamed\.parquet: cannot read parquet \(row group 0: column chunk paragraphs.* is not a schema column\)/,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', onStray);
    }
    expect(stray).toEqual([]);
  });

  test('a row with a null paragraphs list names row and column', async () => {
    const file = write(
      'nullpar.parquet',
      referenceParquet('SNAPPY', [GOOD_ROWS[0], { source: 'docmath', paragraphs: null, id: 9n }]),
    );
    await expect(readParquet(file)).rejects.toThrow(/nullpar\.parquet, row 2, column 'paragraphs'/);
    const result = await readParquet(file, { skipBad: true });
    expect(result.clusters.map((c) => c.id)).toEqual(['7']);
    expect(result.skipped).toEqual({ missing_column: 1 });
  });

  test('a file with neither documents nor paragraphs is missing_column on every row', async () => {
    const buffer = parquetWriteBuffer({
      columnData: [{ name: 'text', data: ['a', 'b'], type: 'STRING' }],
    });
    const file = write('nocol.parquet', new Uint8Array(buffer));
    await expect(readParquet(file)).rejects.toThrow(
      /row 1, column 'documents'.*columns found: text/,
    );
    expect((await readParquet(file, { skipBad: true })).skipped).toEqual({ missing_column: 2 });
  });
});

describe('jsonl reader', () => {
  test('simple and reference layouts normalise to the same Cluster shape', () => {
    const file = write(
      'mixed.jsonl',
      [
        JSON.stringify({ id: 'a1', documents: ['d1', 'd2'], task: 'doc_mc', source: 'web' }),
        '',
        JSON.stringify({ data_source: 'docmath_x', paragraphs: ['p'], question_id: 3 }),
        JSON.stringify({ documents: ['only'] }),
      ].join('\r\n'),
    );
    expect(readJsonl(file)).toEqual({
      clusters: [
        { id: 'a1', source: 'web', task: 'mc', documents: ['d1', 'd2'] },
        { id: '3', source: 'docmath_x', documents: ['p'] },
        // no id → "<stem>:<line>", no source → the file stem
        { id: 'mixed:4', source: 'mixed', documents: ['only'] },
      ],
      rows: 3,
      skipped: {},
      problems: [],
    });
  });

  test.each([
    ['bad JSON', '{"id": 1, "documents": [', 'bad_json', /row 2: not valid JSON/],
    ['empty cluster', '{"id": 1, "documents": []}', 'empty_cluster', /row 2, column 'documents'/],
    ['empty document', '{"documents": ["a", "  "]}', 'empty_document', /column 'documents\[1\]'/],
    ['non-string document', '{"documents": ["a", 3]}', 'wrong_type', /column 'documents\[1\]'/],
    ['documents not a list', '{"documents": "abc"}', 'wrong_type', /expected a list of strings/],
    ['missing column', '{"id": 5, "text": "abc"}', 'missing_column', /columns found: id, text/],
    ['unknown task', '{"documents": ["a"], "task": "chat"}', 'wrong_type', /column 'task'/],
    ['object id', '{"id": {}, "documents": ["a"]}', 'wrong_type', /column 'id'/],
    ['duplicate id', '{"id": "ok", "documents": ["b"]}', 'duplicate_id', /already used at/],
  ])(
    '%s: DataError naming file and row, or skipped and counted',
    (_name, badLine, reason, message) => {
      const file = write(
        `bad-${reason}-${_name.replace(/\W/g, '')}.jsonl`,
        `{"id":"ok","documents":["fine"]}\n${badLine}\n`,
      );
      expect(() => readJsonl(file)).toThrow(DataError);
      expect(() => readJsonl(file)).toThrow(message);
      expect(() => readJsonl(file)).toThrow(file);
      const result = readJsonl(file, { skipBad: true });
      expect(result.clusters.map((c) => c.id)).toEqual(['ok']);
      expect(result.rows).toBe(2);
      expect(result.skipped).toEqual({ [reason]: 1 });
      expect(result.problems[0]).toMatchObject({ reason, file, row: 2 });
    },
  );

  test('a missing file is a DataError even with skipBad', () => {
    expect(() => readJsonl(join(dir, 'nope.jsonl'), { skipBad: true })).toThrow(/no such file/);
  });
});

describe('readCorpus', () => {
  test('a folder with train.jsonl reads only it; other folders read every corpus file', async () => {
    const corpusDir = mkdtempSync(join(dir, 'corpus-'));
    writeFileSync(join(corpusDir, 'train.jsonl'), '{"id":"t","documents":["x"]}\n');
    writeFileSync(join(corpusDir, 'eval.jsonl'), '{"id":"e","question":"q"}\n');
    expect((await readCorpus([corpusDir])).clusters.map((c) => c.id)).toEqual(['t']);

    const plainDir = mkdtempSync(join(dir, 'plain-'));
    writeFileSync(join(plainDir, 'b.jsonl'), '{"id":"b","documents":["x"]}\n');
    writeFileSync(join(plainDir, 'a.parquet'), referenceParquet('SNAPPY', GOOD_ROWS));
    writeFileSync(join(plainDir, 'notes.bin'), 'ignored');
    expect((await readCorpus([plainDir])).clusters.map((c) => c.id)).toEqual(['7', '8', 'b']);
  });

  test('duplicate ids across files are caught', async () => {
    const a = write('dupa.jsonl', '{"id":"same","documents":["x"]}\n');
    const b = write('dupb.jsonl', '{"id":"same","documents":["y"]}\n');
    await expect(readCorpus([a, b])).rejects.toThrow(
      /dupb\.jsonl, row 1, column 'id'.*dupa\.jsonl row 1/,
    );
  });

  test('an unknown extension is refused', async () => {
    const f = write('corpus.csv', 'a,b');
    await expect(readCorpus([f])).rejects.toThrow(
      /expected a \.jsonl, \.parquet, \.txt or \.md file, or a folder/,
    );
  });
});
