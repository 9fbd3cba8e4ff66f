import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { pairedDifference, readQuestionScores, type QuestionScores } from './paired.ts';
import { writeExperimentTable } from './table.ts';

const scores = (t: Record<string, Record<string, number>>): QuestionScores =>
  new Map(Object.entries(t).map(([task, ids]) => [task, new Map(Object.entries(ids))]));

describe('pairedDifference', () => {
  test('mean and standard error of per-question differences, over shared questions only', () => {
    // qa diffs: +0.5, 0, +1 (q4 only in the arm) → mean 0.5, sd 0.5, se 0.5/√3.
    const arm = scores({ qa: { q1: 1, q2: 0.5, q3: 1, q4: 1 }, mc: { m1: 0 } });
    const ref = scores({ qa: { q1: 0.5, q2: 0.5, q3: 0 }, mc: { m1: 0.5 } });
    const p = pairedDifference(arm, ref, 'warm');
    expect(p.against).toBe('warm');
    const qa = p.tasks.find((t) => t.task === 'qa');
    expect(qa?.questions).toBe(3);
    expect(qa?.diff).toBeCloseTo(0.5, 12);
    expect(qa?.stderr).toBeCloseTo(0.5 / Math.sqrt(3), 12);
    const mc = p.tasks.find((t) => t.task === 'mc');
    expect(mc).toEqual({ task: 'mc', questions: 1, diff: -0.5, stderr: 0 });
    expect(p.mean).toBeCloseTo(0, 12);
    expect(p.meanStderr).toBeCloseTo(Math.sqrt((0.5 / Math.sqrt(3)) ** 2) / 2, 12);
  });

  test('an arm against itself differs by exactly zero', () => {
    const a = scores({ qa: { q1: 1, q2: 0 }, mc: { m1: 0.5 } });
    const p = pairedDifference(a, a, 'a');
    expect(p.mean).toBe(0);
    expect(p.meanStderr).toBe(0);
  });
});

/** A minimal eval folder: summary (n, mode) and one record per (question, sample). */
function evalArm(dir: string, arm: string, rows: [string, string, number, number][]): void {
  mkdirSync(join(dir, `eval-${arm}`), { recursive: true });
  writeFileSync(
    join(dir, `eval-${arm}`, 'summary.json'),
    JSON.stringify({
      n: 2,
      result: {
        mode: 'as-described',
        tasks: [{ task: 'qa', avg: 0, complete: 2, passAtK: [0, 0] }],
        taskMean: 0,
      },
    }),
  );
  const record = ([task, id, sample, score]: [string, string, number, number]) => ({
    task,
    subTask: task,
    id,
    sample,
    seed: 42 + sample,
    answer: 'x',
    promptSha256: 'h',
    promptTokens: 10,
    promptTokensOriginal: 10,
    truncated: false,
    response: 'r',
    finishReason: 'stop',
    completionTokens: 3,
    region: 'r',
    pred: 'x',
    ruleAsCoded: 0,
    ruleAsDescribed: score,
    needsJudge: false,
    judge: null,
    judgeQuestion: 'q',
  });
  writeFileSync(
    join(dir, `eval-${arm}`, 'samples.jsonl'),
    rows.map((r) => JSON.stringify(record(r))).join('\n') + '\n',
  );
}

describe('readQuestionScores and the table column', () => {
  test('avg@n per question in the summary mode; incomplete questions are left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-paired-'));
    evalArm(dir, 'warm', [
      ['qa', 'q1', 0, 1],
      ['qa', 'q1', 1, 0],
      ['qa', 'q2', 0, 0],
      ['qa', 'q2', 1, 0],
      ['qa', 'q3', 0, 1], // one sample of two: not complete
    ]);
    const s = readQuestionScores(dir, 'warm');
    expect([...(s.get('qa')?.entries() ?? [])]).toEqual([
      ['q1', 0.5],
      ['q2', 0],
    ]);
  });

  test('--paired-with adds a signed column; the reference row has none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-paired-'));
    evalArm(dir, 'warm', [
      ['qa', 'q1', 0, 0],
      ['qa', 'q1', 1, 0],
      ['qa', 'q2', 0, 1],
      ['qa', 'q2', 1, 0],
    ]);
    evalArm(dir, 'spell', [
      ['qa', 'q1', 0, 1],
      ['qa', 'q1', 1, 1],
      ['qa', 'q2', 0, 1],
      ['qa', 'q2', 1, 0],
    ]);
    const md = writeExperimentTable(dir, ['warm', 'spell'], { pairedWith: 'warm' });
    expect(md).toContain('| paired vs warm |');
    // diffs +1 and 0: mean 0.5, se 0.5.
    expect(md).toMatch(/\| spell \|.*\| \+50\.0 ± 50\.0 \|/);
    expect(md).toMatch(/\| warm \|.*\| – \|/);
    expect(() => writeExperimentTable(dir, ['spell'], { pairedWith: 'warm' })).toThrow(
      /--paired-with warm: not one of the arms/,
    );
  });

  test('a corrupt samples line names the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-paired-'));
    evalArm(dir, 'warm', [['qa', 'q1', 0, 1]]);
    writeFileSync(join(dir, 'eval-warm', 'samples.jsonl'), '{"task":"qa"}\nnot json\n');
    expect(() => readQuestionScores(dir, 'warm')).toThrow(/samples\.jsonl:1 is not a spell eval/);
  });
});
