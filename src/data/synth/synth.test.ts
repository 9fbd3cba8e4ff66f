import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ruleScore } from '../../spell/rules/index.ts';
import { TASKS } from '../../spell/task.ts';
import { evaluateArithmetic } from './arithmetic.ts';
import { synthCorpus, type EvalRecord, type TrainRecord } from './corpus.ts';
import { DEFAULT_SYNTH_OPTIONS, defaultCorpusPath } from './default.ts';
import { readEvalSet } from './eval-set.ts';
import { formatAnswer } from './text.ts';

const small = { seed: 7, clusters: 30, evalPerTask: 12 };
const files = synthCorpus(small);
const parse = <T>(text: string): T[] =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);
const train = parse<TrainRecord>(files['train.jsonl']);
const evalSet = parse<EvalRecord>(files['eval.jsonl']);

describe('arithmetic evaluator and answer format', () => {
  test.each([
    ['(1.5 + 2.5) * 2', 8],
    ['10 / 4 - 1', 1.5],
    ['-(3 - 5)', 2],
    ['2 +', NaN],
    ['2 ^ 3', NaN],
  ])('%s = %d', (expr, value) => {
    expect(evaluateArithmetic(expr)).toBe(value);
  });

  test.each([
    [12.3456, '12.35'],
    [3.14159, '3.142'],
    [-4.5, '-4.5'],
    [1200, '1200'],
  ])('formatAnswer(%d) = %s (plain decimal string)', (x, s) => {
    expect(formatAnswer(x)).toBe(s);
  });
});

describe('generator', () => {
  test('same seed → same bytes; another seed → other bytes', () => {
    expect(synthCorpus(small)).toEqual(files);
    expect(synthCorpus({ ...small, seed: 8 })['train.jsonl']).not.toBe(files['train.jsonl']);
  });

  test('the committed default corpus regenerates byte for byte', () => {
    const regenerated = synthCorpus(DEFAULT_SYNTH_OPTIONS);
    for (const name of ['train.jsonl', 'eval.jsonl', 'manifest.json'] as const) {
      const committed = readFileSync(join(defaultCorpusPath(), name), 'utf8');
      expect(regenerated[name] === committed, `${name} differs from assets/corpus`).toBe(true);
    }
  });

  test('training clusters: simple layout, all tasks, 8–12 documents, unique ids', () => {
    expect(train.length).toBe(30);
    for (const task of TASKS) expect(train.filter((c) => c.task === task).length).toBe(10);
    expect(new Set(train.map((c) => c.id)).size).toBe(30);
    for (const c of train) {
      expect(Object.keys(c)).toEqual(['id', 'source', 'task', 'documents']);
      expect(c.documents.length).toBeGreaterThanOrEqual(8);
      expect(c.documents.length).toBeLessThanOrEqual(12);
      for (const d of c.documents) expect(d.split(/\s+/).length).toBeLessThan(150);
    }
  });

  test('no held-out document appears in the training clusters', () => {
    const seen = new Set(train.flatMap((c) => c.documents));
    for (const q of evalSet) for (const d of q.documents) expect(seen.has(d)).toBe(false);
  });

  test('manifest records seed, counts, version and file hashes', () => {
    const manifest = JSON.parse(files['manifest.json']);
    expect(manifest).toMatchObject({
      generator: 'spell-synth',
      seed: 7,
      train: { clusters: 30, byTask: { docmath: 10, qa: 10, mc: 10 } },
      eval: { questions: 36, byTask: { docmath: 12, qa: 12, mc: 12 } },
    });
    expect(manifest.files['train.jsonl'].bytes).toBe(Buffer.byteLength(files['train.jsonl']));
  });
});

describe('held-out answers are consistent with their documents', () => {
  const docmath = evalSet.filter((q) => q.task === 'docmath');

  test('docmath: every number of the derivation is printed in the evidence, and it recomputes the answer', () => {
    for (const q of docmath) {
      expect(q.answer).toMatch(/^-?\d+(\.\d+)?$/);
      const evidence = q.evidence.map((i) => q.documents[i]).join('\n');
      for (const n of q.derivation?.match(/\d+(?:\.\d+)?/g) ?? []) {
        if (n === '100' || n === '1000') continue; // unit factors of percent / thousands
        expect(evidence, `${q.id}: ${n}`).toContain(n);
      }
      expect(formatAnswer(evaluateArithmetic(q.derivation ?? ''))).toBe(q.answer);
    }
  });

  test('docmath revenue growth recomputes from Table 1 parsed out of the text', () => {
    const growth = synthCorpus({ seed: 3, clusters: 0, evalPerTask: 27 });
    const items = parse<EvalRecord>(growth['eval.jsonl']).filter(
      (q) => q.kind === 'revenue_growth',
    );
    expect(items.length).toBeGreaterThan(0);
    for (const q of items) {
      const [, from, to] = /change from (\d{4}) to (\d{4})/.exec(q.question) ?? [];
      const table = q.documents.find((d) => d.startsWith('Table 1: Revenue by segment')) ?? '';
      const rows = table.split('\n').filter((l) => l.startsWith('|'));
      const years = rows[0].split('|').map((s) => s.trim());
      const column = (year: string) =>
        rows.slice(1).reduce((sum, r) => sum + Number(r.split('|')[years.indexOf(year)]), 0);
      const expected = ((column(to) - column(from)) / column(from)) * 100;
      expect(Math.abs(expected - Number(q.answer))).toBeLessThan(0.0015 * Math.abs(expected));
    }
  });

  test('qa: the short answer is written in an evidence document, and evidence spans 2+ documents', () => {
    for (const q of evalSet.filter((e) => e.task === 'qa')) {
      expect(q.answer.split(' ').length).toBeLessThanOrEqual(3);
      expect(q.evidence.length).toBeGreaterThanOrEqual(2);
      expect(q.evidence.some((i) => q.documents[i].includes(q.answer))).toBe(true);
    }
  });

  test('mc: four distinct options, letters A–D evenly used, the correct option found in the documents', () => {
    const mc = evalSet.filter((e) => e.task === 'mc');
    const letters = { A: 0, B: 0, C: 0, D: 0 };
    for (const q of mc) {
      const options = q.options ?? { A: '', B: '', C: '', D: '' };
      expect(new Set(Object.values(options)).size).toBe(4);
      const letter = q.answer as keyof typeof letters;
      letters[letter]++;
      if (q.kind !== 'founding_age') {
        expect(q.documents.join('\n')).toContain(options[letter]);
      }
    }
    expect(letters).toEqual({ A: 3, B: 3, C: 3, D: 3 });
  });

  test('the rule checks accept every ground truth answered verbatim, and reject a wrong one', () => {
    for (const q of evalSet) {
      expect(ruleScore(q.task, `The answer is ${q.answer}.`, q.answer).score, q.id).toBe(1);
    }
    const mc = evalSet.find((q) => q.task === 'mc' && q.answer !== 'A');
    expect(mc && ruleScore('mc', 'The correct answer is (A)', mc.answer).score).toBe(0);
  });
});

describe('readEvalSet', () => {
  test('reads the committed evaluation set back as typed records', () => {
    const records = readEvalSet(join(defaultCorpusPath(), 'eval.jsonl'));
    expect(records.length).toBe(3 * DEFAULT_SYNTH_OPTIONS.evalPerTask);
    expect(records.filter((r) => r.task === 'mc').every((r) => r.options !== undefined)).toBe(true);
  });

  test('a bad line names file, row and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-eval-'));
    const file = join(dir, 'eval.jsonl');
    const good = files['eval.jsonl'].split('\n')[0];
    writeFileSync(file, `${good}\n${JSON.stringify({ ...JSON.parse(good), task: 'mc' })}\n`);
    try {
      expect(() => readEvalSet(file)).toThrow(
        /eval\.jsonl, row 2, field 'answer': an mc question needs/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
