/**
 * Benchmark loaders on small files written here in each publisher's format (DocMath-Eval JSON and
 * HF parquet names, Tongyi-Zhiwen/frames JSONL, LongBench data.zip JSONL and HF parquet folders,
 * LongBench-v2 data.json), plus malformed and missing files, which must name task and file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, test } from 'vitest';
import { DataError } from '../../src/core/errors.ts';
import { loadPaperTask, loadSynthetic, selectQuestions } from '../../src/eval/index.ts';

const root = mkdtempSync(join(tmpdir(), 'spell-eval-loaders-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, text: string): string {
  const file = join(root, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}
const jsonl = (rows: readonly unknown[]): string =>
  rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function dataDir(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('docmath (yale-nlp/DocMath-Eval testmini)', () => {
  const dir = dataDir('ok');
  for (const [i, sub] of ['complong', 'compshort', 'simplong', 'simpshort'].entries()) {
    put(
      `ok/docmath/data/${sub}_testmini.json`,
      JSON.stringify([
        {
          question_id: `q${i}`,
          question: ' What is the total? ',
          paragraphs: ['Revenue was 5.', '| a | b |\n| 1 | 2 |'],
          ground_truth: i === 0 ? 7 : 0.125,
          python_solution: 'def solution(): ...',
        },
      ]),
    );
  }

  test('reads the four subsets in order with the reference ids, context and str(float) answers', async () => {
    const qs = await loadPaperTask(dir, 'docmath');
    expect(qs.map((q) => q.id)).toEqual([
      'docmath_complong_0',
      'docmath_compshort_0',
      'docmath_simplong_0',
      'docmath_simpshort_0',
    ]);
    expect(qs[0]).toMatchObject({
      kind: 'docmath',
      subTask: 'complong',
      question: 'What is the total?',
      context: 'Revenue was 5.\n| a | b |\n| 1 | 2 |',
      answer: '7.0',
    });
    expect(qs[1].answer).toBe('0.125');
  });

  test('a missing subset names the task, the folder and the expected file', async () => {
    const bad = dataDir('docmath-missing');
    put('docmath-missing/docmath/complong_testmini.json', '[]');
    await expect(loadPaperTask(bad, 'docmath')).rejects.toThrow(
      /docmath: no benchmark file found under .*docmath-missing\/docmath \(expected compshort_testmini/,
    );
  });

  test('a non-numeric ground truth names file, row and field', async () => {
    const bad = dataDir('docmath-bad');
    for (const sub of ['complong', 'compshort', 'simplong', 'simpshort']) {
      put(
        `docmath-bad/docmath/${sub}-testmini.jsonl`,
        jsonl([{ question: 'q', paragraphs: ['p'], ground_truth: 'twelve' }]),
      );
    }
    const err = await loadPaperTask(bad, 'docmath').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toMatch(
      /docmath: .*complong-testmini\.jsonl row 1: field "ground_truth" must be a number, got "twelve"/,
    );
    expect((err as DataError).location).toMatchObject({ row: 1, field: 'ground_truth' });
  });
});

describe('frames (Tongyi-Zhiwen/frames)', () => {
  test('wiki_items become "title\\ntext" joined by newlines; Prompt is stripped', async () => {
    const dir = dataDir('frames-ok');
    put(
      'frames-ok/frames/test.jsonl',
      jsonl([
        {
          Prompt: ' Who? ',
          Answer: 'Jane Ballou',
          wiki_items: [
            { title: 'A_b', text: 'one' },
            { title: 'C', text: 'two' },
          ],
        },
      ]),
    );
    const [q] = await loadPaperTask(dir, 'frames');
    expect(q).toMatchObject({
      id: 'frames_0',
      kind: 'qa',
      question: 'Who?',
      answer: 'Jane Ballou',
    });
    expect(q.context).toBe('A_b\none\nC\ntwo');
  });

  test('the google TSV without article text gets a pointed error', async () => {
    const dir = dataDir('frames-google');
    put('frames-google/frames/test.tsv', 'Prompt\tAnswer\n');
    await expect(loadPaperTask(dir, 'frames')).rejects.toThrow(
      /google\/frames-benchmark.*Tongyi-Zhiwen\/frames/,
    );
  });

  test('a bad wiki item names the row and field', async () => {
    const dir = dataDir('frames-bad');
    put(
      'frames-bad/frames/test.jsonl',
      jsonl([{ Prompt: 'q', Answer: 'a', wiki_items: [{ title: 1 }] }]),
    );
    await expect(loadPaperTask(dir, 'frames')).rejects.toThrow(
      /test\.jsonl row 1: field "wiki_items\[0\]"/,
    );
  });

  test('a broken JSONL line names the line', async () => {
    const dir = dataDir('frames-json');
    put('frames-json/frames/test.jsonl', '{"Prompt": "q"\n');
    await expect(loadPaperTask(dir, 'frames')).rejects.toThrow(
      /frames: .*test\.jsonl row 1: line is not valid JSON/,
    );
  });
});

describe('LongBench v1 QA (THUDM/LongBench)', () => {
  test('data.zip JSONL: answers[0] is the truth, and the LongBench-E file is never picked (B2)', async () => {
    const dir = dataDir('lb');
    const row = (a: string) => ({ input: ' q? ', context: 'ctx', answers: [a, 'other'], _id: 'x' });
    put('lb/longbench/data/hotpotqa.jsonl', jsonl([row('Paris'), row('Rome')]));
    put('lb/longbench/data/hotpotqa_e.jsonl', jsonl([row('WRONG')]));
    const qs = await loadPaperTask(dir, 'hotpotqa');
    expect(qs.map((q) => [q.id, q.answer, q.question])).toEqual([
      ['longbench_hotpotqa_0', 'Paris', 'q?'],
      ['longbench_hotpotqa_1', 'Rome', 'q?'],
    ]);
  });

  test('HF parquet config folder (musique/test-00000-of-00001.parquet)', async () => {
    const dir = dataDir('lbpq');
    mkdirSync(join(dir, 'longbench', 'musique'), { recursive: true });
    parquetWriteFile({
      filename: join(dir, 'longbench', 'musique', 'test-00000-of-00001.parquet'),
      columnData: [
        { name: 'input', data: ['Where?'], type: 'STRING' },
        { name: 'context', data: ['Passage 1: …'], type: 'STRING' },
        { name: 'answers', data: [['Oslo', 'Bergen']] },
      ],
    });
    const qs = await loadPaperTask(dir, 'musique');
    expect(qs).toEqual([
      {
        task: 'musique',
        subTask: 'musique',
        id: 'longbench_musique_0',
        kind: 'qa',
        context: 'Passage 1: …',
        question: 'Where?',
        answer: 'Oslo',
      },
    ]);
  });

  test('a missing task names both folders it looked in', async () => {
    await expect(loadPaperTask(dataDir('empty'), '2wikimqa')).rejects.toThrow(
      /2wikimqa: no benchmark file found under .*empty\/2wikimqa or .*empty\/longbench/,
    );
  });
});

describe('LongBench-v2 (THUDM/LongBench-v2 data.json)', () => {
  const item = {
    _id: 'abc',
    domain: 'Single-Document QA',
    sub_domain: 'x',
    difficulty: 'hard',
    length: 'short',
    question: 'Which?',
    choice_A: 'a',
    choice_B: 'b',
    choice_C: 'c',
    choice_D: 'd',
    answer: 'C',
    context: 'long text',
  };

  test('builds the question block with the choices and keeps the dataset id and domain', async () => {
    const dir = dataDir('lb2');
    put('lb2/longbench-v2/data.json', JSON.stringify([item]));
    const [q] = await loadPaperTask(dir, 'longbench-v2');
    expect(q).toMatchObject({ id: 'abc', subTask: 'Single-Document QA', kind: 'mc', answer: 'C' });
    expect(q.question).toBe(
      'What is the correct answer to this question: Which?\n    Choices:\n    (A) a\n    (B) b\n    (C) c\n    (D) d\n    ',
    );
  });

  test('an answer that is not a letter A–D is rejected with file, row and field', async () => {
    const dir = dataDir('lb2-bad');
    put(
      'lb2-bad/longbench-v2/data.json',
      JSON.stringify([item, { ...item, _id: 'z', answer: 'E' }]),
    );
    await expect(loadPaperTask(dir, 'longbench-v2')).rejects.toThrow(
      /longbench-v2: .*data\.json row 2: field "answer" must be one of the letters A, B, C, D, got "E"/,
    );
  });

  test('data.json that is not an array is rejected', async () => {
    const dir = dataDir('lb2-obj');
    put('lb2-obj/longbench-v2/data.json', '{"data": []}');
    await expect(loadPaperTask(dir, 'longbench-v2')).rejects.toThrow(
      /expected a JSON array of records/,
    );
  });
});

describe('question selection', () => {
  test('the synthetic suite reads the bundled held-out set, mc questions with their choices', () => {
    const qs = loadSynthetic();
    expect(new Set(qs.map((q) => q.task))).toEqual(new Set(['docmath', 'qa', 'mc']));
    const mc = qs.find((q) => q.kind === 'mc');
    expect(mc?.question).toMatch(/Choices:\n {4}\(A\) .*\n {4}\(B\)/);
  });

  test('--limit takes the first questions of each task; unknown tasks are rejected', async () => {
    const sel = await selectQuestions({ suite: 'synthetic', tasks: ['mc', 'qa'], limit: 2 });
    expect(sel.tasks).toEqual(['qa', 'mc']);
    expect(sel.questions.map((q) => q.task)).toEqual(['qa', 'qa', 'mc', 'mc']);
    await expect(selectQuestions({ suite: 'synthetic', tasks: ['frames'] })).rejects.toThrow(
      /unknown task "frames" for suite synthetic/,
    );
    await expect(selectQuestions({ suite: 'paper' })).rejects.toThrow(/--data-dir/);
  });

  test('a paper task whose size differs from the paper version is loaded with a warning', async () => {
    const sel = await selectQuestions({
      suite: 'paper',
      dataDir: join(root, 'lb'),
      tasks: ['hotpotqa'],
    });
    expect(sel.warnings).toEqual(["hotpotqa: 2 questions, the paper's version has 200"]);
  });
});
