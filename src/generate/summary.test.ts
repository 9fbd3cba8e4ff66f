import { describe, expect, test } from 'vitest';
import { emptyUsage, type QuestionRecord } from './record.ts';
import { formatSummary, summarise } from './summary.ts';

function rec(slot: number, over: Partial<QuestionRecord>): QuestionRecord {
  const usage = emptyUsage();
  usage.questioner = { calls: 1, promptTokens: 100, completionTokens: 50, unreported: 0 };
  return {
    type: 'question',
    slot,
    status: 'rejected',
    task: 'qa',
    clusterId: 'c',
    source: 's',
    clusterDocuments: 6,
    questionerDocuments: [0, 1],
    distractorDocuments: [2, 3, 4, 5],
    fromCache: false,
    historyExamples: 0,
    usage,
    elapsedMs: 1,
    ...over,
  };
}

describe('generate summary', () => {
  const records = [
    rec(0, { reason: 'bad_format' }),
    rec(1, { status: 'kept', passRate: 0.5, task: 'mc', questionerDocuments: [0, 1, 2, 3] }),
    rec(2, { status: 'kept', passRate: 0.25, fromCache: true }),
    rec(3, { reason: 'all_correct', passRate: 1 }),
    rec(4, { status: 'error', detail: 'HTTP 503' }),
  ];
  const s = summarise(records, 4, { inputPerMillion: 1, outputPerMillion: 2 });

  test('counts per outcome, task and reason', () => {
    expect([s.slots, s.kept, s.rejected, s.errors]).toEqual([5, 2, 2, 1]);
    expect(s.keptByTask).toEqual({ docmath: 0, qa: 1, mc: 1 });
    expect(s.askedByTask).toEqual({ docmath: 0, qa: 3, mc: 1 });
    expect(s.rejectReasons.bad_format).toBe(1);
    expect(s.rejectReasons.all_correct).toBe(1);
    expect(s.keptFromHistory).toBe(0.5);
  });

  test('the histogram bins answered questions by correct answers out of G', () => {
    expect(s.passRateHistogram.map((b) => [b.correct, b.count, b.kept])).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 1, 1],
      [3, 0, 0],
      [4, 1, 0],
    ]);
  });

  test('documents and tokens per question are means over the right sets', () => {
    expect(s.meanDocuments).toEqual({ answered: (4 + 2 + 2) / 3, kept: 3 });
    expect(s.usage.questioner).toEqual({
      calls: 5,
      promptTokens: 500,
      completionTokens: 250,
      unreported: 0,
    });
    expect(s.tokensPerKept).toBe(375);
    // 500 × 1 + 250 × 2 per million, over 2 kept
    expect(s.totalCost).toBeCloseTo(0.001);
    expect(s.costPerKept).toBeCloseTo(0.0005);
  });

  test('the formatted summary names every part', () => {
    const text = formatSummary(s, { elapsedMs: 60000, slots: 5 });
    for (const part of [
      'kept per task: docmath 0/0, qa 1/3, mc 1/1',
      'bad_format 1',
      ' 2/4      1 (kept 1)',
      'questioner      5 calls  500 + 250',
      'cost per kept question: 0.0005',
      '5.0 questions/min',
    ]) {
      expect(text).toContain(part);
    }
  });
});
