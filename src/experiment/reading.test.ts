import { describe, expect, test } from 'vitest';
import { classifyReading, readingTable, type ReadingQuestion } from './reading.ts';

const qa: ReadingQuestion = {
  task: 'qa',
  documents: [
    'Glenby lies on the river Rill. Its mayor is Ada Vance.',
    'Tarn Hollow is led by Bo Reed, who grew up in Glenby.',
    'The Rill flows into Lake Morrow.',
  ],
  evidence: [1, 2],
};

describe('reading classes', () => {
  test('qa: right, copied from evidence, from a distractor, from nowhere, or missing', () => {
    expect(classifyReading(qa, { pred: 'Bo Reed', correct: true })).toBe('correct');
    expect(classifyReading(qa, { pred: 'Lake Morrow', correct: false })).toBe('evidence');
    expect(classifyReading(qa, { pred: 'ada vance.', correct: false })).toBe('distractor');
    expect(classifyReading(qa, { pred: 'Paris', correct: false })).toBe('absent');
    // a word inside a longer word is not an occurrence
    expect(classifyReading(qa, { pred: 'Glen', correct: false })).toBe('absent');
    expect(classifyReading(qa, { pred: null, correct: false })).toBe('no_answer');
    expect(classifyReading(qa, { pred: '  ', correct: false })).toBe('no_answer');
  });

  test('docmath compares numbers as printed (thousands separators allowed)', () => {
    const q: ReadingQuestion = {
      task: 'docmath',
      documents: ['Revenue was 1,204.5 million in 2019.', 'Staff: 310 people.'],
      evidence: [0],
    };
    expect(classifyReading(q, { pred: '1204.5', correct: false })).toBe('evidence');
    expect(classifyReading(q, { pred: '310', correct: false })).toBe('distractor');
    expect(classifyReading(q, { pred: '3.885', correct: false })).toBe('absent');
    expect(classifyReading(q, { pred: 'about ten', correct: false })).toBe('absent');
  });

  test('mc looks for the chosen option text', () => {
    const q: ReadingQuestion = {
      task: 'mc',
      documents: ['Ada Vance runs the mill.', 'Bo Reed keeps the inn.'],
      evidence: [0],
      options: { A: 'Ada Vance', B: 'Bo Reed', C: 'Cy Hale', D: 'Di Moss' },
    };
    expect(classifyReading(q, { pred: 'b', correct: false })).toBe('distractor');
    expect(classifyReading(q, { pred: 'C', correct: false })).toBe('absent');
    expect(classifyReading(q, { pred: 'E', correct: false })).toBe('absent');
  });

  test('the table gives shares per task and the commonest answer', () => {
    const rows = readingTable([
      { task: 'qa', cls: 'correct', pred: 'Bo Reed' },
      { task: 'qa', cls: 'absent', pred: 'Paris' },
      { task: 'qa', cls: 'absent', pred: 'paris.' },
      { task: 'qa', cls: 'no_answer', pred: null },
      { task: 'mc', cls: 'distractor', pred: 'B' },
    ]);
    expect(rows.map((r) => r.task)).toEqual(['qa', 'mc']);
    expect(rows[0].samples).toBe(4);
    expect(rows[0].shares).toEqual({
      correct: 0.25,
      evidence: 0,
      distractor: 0,
      absent: 0.5,
      no_answer: 0.25,
    });
    expect(rows[0].topAnswer).toEqual({ answer: 'paris', share: 0.5 });
    expect(rows[1].topAnswer).toEqual({ answer: 'b', share: 1 });
  });
});
