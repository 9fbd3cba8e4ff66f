import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/spell.js');
const dir = mkdtempSync(join(tmpdir(), 'spell-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spell(
  args: string[],
  stdin = '',
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'score', ...args], {
    input: stdin,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const parseLines = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

const GOOD = [
  { task: 'qa', response: 'The answer is 10 people.', answer: '1', id: 'a' },
  { task: 'docmath_qa', response: 'Therefore, the answer is -5.', answer: '5.0' },
  { task: 'mc', response: 'The correct answer is (b)', answer: 'B' },
  { task: 'doc_mc', response: '<think>x</think>The correct answer is (C)', answer: 'C' },
  { task: 'qa', response: 'The correct answer is Paris.', answer: 'Paris, France' },
];

describe('spell score (end to end through bin/spell.js)', () => {
  test('scores a file line by line, keeping input fields and order, skipping blank lines', () => {
    const input = join(dir, 'good.jsonl');
    const output = join(dir, 'good.out.jsonl');
    writeFileSync(input, `${GOOD.map((r) => JSON.stringify(r)).join('\n\n')}\n`);
    const r = spell(['--input', input, '--output', output]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(parseLines(readFileSync(output, 'utf8'))).toEqual([
      { ...GOOD[0], pred: '10 people', score: 1 },
      { ...GOOD[1], pred: '-5', score: 1 },
      { ...GOOD[2], pred: null, score: 0 },
      { ...GOOD[3], pred: 'C', score: 1 },
      { ...GOOD[4], pred: 'Paris', score: 0 },
    ]);
  });

  test('reads stdin and writes stdout by default; --qa-metric changes QA scores only', () => {
    const stdin = GOOD.map((r) => JSON.stringify(r)).join('\n');
    const r = spell(['--qa-metric', 'cem-loose'], stdin);
    expect(r.code).toBe(0);
    const scores = parseLines(r.stdout).map((o) => (o as { score: number }).score);
    expect(scores).toEqual([1, 1, 0, 1, 1]);
  });

  test('a malformed line stops the run with its line number and leaves --output untouched', () => {
    const input = join(dir, 'bad.jsonl');
    const output = join(dir, 'bad.out.jsonl');
    writeFileSync(output, 'previous content\n');
    writeFileSync(input, `${JSON.stringify(GOOD[0])}\n{"task": "qa", "response": \n`);
    const r = spell(['--input', input, '--output', output]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).toContain('invalid JSON');
    expect(readFileSync(output, 'utf8')).toBe('previous content\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('a missing field is an error naming the line and the field', () => {
    const r = spell(
      [],
      `${JSON.stringify(GOOD[0])}\n${JSON.stringify({ task: 'qa', answer: 'x' })}\n`,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).toContain('"response"');
  });

  test('--keep-going writes {"error": ...} for bad lines and scores the rest', () => {
    const input = join(dir, 'mixed.jsonl');
    const output = join(dir, 'mixed.out.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify(GOOD[0]),
        'not json',
        JSON.stringify({ task: 'essay', response: 'x', answer: 'y' }),
        '[1, 2]',
        JSON.stringify({ task: 'mc', response: 'The correct answer is (B)' }),
        JSON.stringify(GOOD[2]),
      ].join('\n'),
    );
    const r = spell(['--input', input, '--output', output, '--keep-going']);
    expect(r.code).toBe(0);
    const out = parseLines(readFileSync(output, 'utf8')) as Record<string, unknown>[];
    expect(out).toHaveLength(6);
    expect(out[0]).toEqual({ ...GOOD[0], pred: '10 people', score: 1 });
    expect(out[1]?.error).toMatch(/line 2: invalid JSON/);
    expect(out[2]?.error).toMatch(/line 3: field "task".*"essay"/);
    expect(out[3]?.error).toMatch(/line 4: expected a JSON object, got an array/);
    expect(out[4]?.error).toMatch(/line 5: field "answer"/);
    expect(out[5]).toEqual({ ...GOOD[2], pred: null, score: 0 });
    expect(r.stderr).toContain('4 lines with errors');
  });

  test('a missing --input file is a clear error', () => {
    const r = spell(['--input', join(dir, 'does-not-exist.jsonl')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('does-not-exist.jsonl');
  });
});
