import { describe, expect, test } from 'vitest';
import { aggregate, stderrOfMean } from './aggregate.ts';
import type { SampleRecord } from './record.ts';

function rec(
  task: string,
  id: string,
  sample: number,
  rule: { coded: number; described: number },
  judge: number | 'failed' | null,
): SampleRecord {
  return {
    task,
    subTask: task,
    id,
    sample,
    seed: 42 + sample,
    answer: 'x',
    promptSha256: '',
    promptTokens: 10,
    promptTokensOriginal: 10,
    truncated: false,
    response: '',
    finishReason: 'stop',
    completionTokens: 1,
    region: '',
    pred: null,
    ruleAsCoded: rule.coded,
    ruleAsDescribed: rule.described,
    needsJudge: judge !== null,
    judge:
      judge === null
        ? null
        : judge === 'failed'
          ? { status: 'failed', error: 'HTTP 500', attempts: 3, model: 'j' }
          : {
              status: 'ok',
              score: judge,
              verdict: judge === 1 ? 'YES' : 'NO',
              strictScore: judge,
              output: '',
              attempts: 1,
              model: 'j',
            },
    judgeQuestion: 'Question: q',
  };
}

const right = { coded: 1, described: 1 };
const wrong = { coded: 0, described: 0 };
const cemOnly = { coded: 0, described: 1 }; // QA answer covered by CEM, as-coded rule forced to 0

describe('aggregate', () => {
  const records: SampleRecord[] = [
    // docmath: one question, 1 of 2 right → 0.5
    rec('docmath', 'd0', 0, right, null),
    rec('docmath', 'd0', 1, wrong, 0),
    // frames: CEM right but judge says NO on sample 0; judge YES on sample 1
    rec('frames', 'f0', 0, cemOnly, 0),
    rec('frames', 'f0', 1, wrong, 1),
    // LongBench QA: 2wiki all right by judge, hotpot failed judge, musique nothing
    rec('2wikimqa', 'w0', 0, wrong, 1),
    rec('2wikimqa', 'w0', 1, wrong, 1),
    rec('hotpotqa', 'h0', 0, cemOnly, 'failed'),
    rec('hotpotqa', 'h0', 1, wrong, 'failed'),
    rec('musique', 'm0', 0, wrong, 0),
    rec('musique', 'm0', 1, wrong, 0),
    // longbench-v2: both right; a second question with only one sample is incomplete
    rec('longbench-v2', 'l0', 0, right, null),
    rec('longbench-v2', 'l0', 1, right, null),
    rec('longbench-v2', 'l1', 0, right, null),
  ];
  const tasks = ['docmath', 'frames', '2wikimqa', 'hotpotqa', 'musique', 'longbench-v2'];

  test('as-described: max(CEM, judge) per sample, the paper average weights LB-MQA as one column', () => {
    const r = aggregate(records, tasks, 2, 'as-described', 'paper');
    const avg = Object.fromEntries(r.tasks.map((t) => [t.task, t.avg]));
    expect(avg).toEqual({
      docmath: 0.5,
      frames: 1,
      '2wikimqa': 1,
      hotpotqa: 0.5,
      musique: 0,
      'longbench-v2': 1,
    });
    expect(r.paperAverage?.lbMqa).toBeCloseTo(0.5, 12);
    expect(r.paperAverage?.avg).toBeCloseTo((0.5 + 1 + 0.5 + 1) / 4, 12);
    expect(r.taskMean).toBeCloseTo(4 / 6, 12);
  });

  test('as-coded: QA counts only the judge (B1), failed judgements score 0 and are counted', () => {
    const r = aggregate(records, tasks, 2, 'as-coded', 'paper');
    const byTask = new Map(r.tasks.map((t) => [t.task, t]));
    expect(byTask.get('frames')?.avg).toBe(0.5);
    expect(byTask.get('hotpotqa')?.avg).toBe(0);
    expect(byTask.get('hotpotqa')?.judge).toMatchObject({ needed: 2, ok: 0, failed: 2, notRun: 0 });
    expect(byTask.get('docmath')?.bootstrapPassAtK?.['2']).toBeGreaterThan(0.5);
  });

  test('questions with fewer than n samples are left out and counted', () => {
    const r = aggregate(records, tasks, 2, 'as-described', 'paper');
    const lb = r.tasks.find((t) => t.task === 'longbench-v2');
    expect(lb).toMatchObject({ questions: 2, complete: 1, samples: 3 });
  });

  test('pass@k per question uses the unbiased estimator; pass@1 equals avg@n', () => {
    const r = aggregate(records, tasks, 2, 'as-described', 'paper');
    for (const t of r.tasks) expect(t.passAtK[0]).toBeCloseTo(t.avg, 12);
    expect(r.tasks[0].passAtK[1]).toBe(1); // docmath: 1 of 2 right → pass@2 = 1
  });

  test('without all six paper tasks there is no paper average, only the task mean', () => {
    const r = aggregate(records, ['docmath', 'frames'], 2, 'as-described', 'paper');
    expect(r.paperAverage).toBeUndefined();
    expect(r.taskMean).toBeCloseTo(0.75, 12);
  });
});

describe('standard errors', () => {
  test('of one task: sample sd of per-question avg@n over √questions', () => {
    expect(stderrOfMean([0, 0.5, 1, 1])).toBeCloseTo(Math.sqrt(0.6875 / 3 / 4), 12);
    expect(stderrOfMean([0.25])).toBe(0);
    expect(stderrOfMean([])).toBe(0);
  });

  test('of the task mean: √Σse² / tasks', () => {
    // qa: per-question avg@2 = 1, 0, 0.5 → se √(0.25/2/3); mc: 0, 0 → se 0
    const records = [
      rec('qa', 'q0', 0, right, null),
      rec('qa', 'q0', 1, right, null),
      rec('qa', 'q1', 0, wrong, null),
      rec('qa', 'q1', 1, wrong, null),
      rec('qa', 'q2', 0, right, null),
      rec('qa', 'q2', 1, wrong, null),
      rec('mc', 'c0', 0, wrong, null),
      rec('mc', 'c0', 1, wrong, null),
      rec('mc', 'c1', 0, wrong, null),
      rec('mc', 'c1', 1, wrong, null),
    ];
    const r = aggregate(records, ['qa', 'mc'], 2, 'as-described', 'synthetic');
    const qaSe = Math.sqrt(0.5 / 2 / 3);
    expect(r.tasks[0].avgStderr).toBeCloseTo(qaSe, 12);
    expect(r.tasks[1].avgStderr).toBe(0);
    expect(r.taskMeanStderr).toBeCloseTo(qaSe / 2, 12);
  });
});
