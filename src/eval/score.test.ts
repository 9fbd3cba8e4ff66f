import { describe, expect, test } from 'vitest';
import { parseJudgeReference, parseJudgeStrict } from './judge.ts';
import { judgePrompt, judgeQuestion, evalPrompt, mcQuestionBlock } from './prompts.ts';
import { pyFloatStr } from './py-float.ts';
import { finalScore, needsJudge, scoreSample } from './score.ts';

describe('DocMath scoring reproduces the worked examples of spell-eval.md §7a', () => {
  // [response, ground truth (a Python float), pred, score]
  const CASES: readonly (readonly [string, number, string | null, number])[] = [
    ['<think>x</think>\n\nTherefore, the answer is 12.5.', 12.5, '12.5', 1],
    ['Therefore, the answer is 12.5%.', 0.125, '12.5', 1],
    ['Therefore, the answer is 1,234.', 1.234, '1234', 1],
    ['Therefore, the answer is -5.', 5.0, '-5', 1],
    ['Therefore, the answer is 12.34.', 12.3449, '12.34', 1],
    ['Therefore, the answer is 12.3.', 12.3449, '12.3', 0],
    ['Therefore, the answer is $3.2 million.', 3.2, '$3.2', 1],
    ['Therefore, the answer is (7).', 7.0, '7', 1],
    ['so \\boxed{1,500.25}.', 1500.25, '1500.25', 1],
    ['so \\boxed{12\\%}', 12.0, '12\\%', 1],
    ['Therefore, the answer is 007.', 7.0, '007', 0],
    ['Therefore, the answer is -$5.', -5.0, null, 0],
    ['<think>still thinking, the answer is 3', 3.0, null, 0],
    ['reasoning with no marker 42', 42.0, null, 0],
    ['Therefore, the answer is 0.0004.', 0.0, '0.0004', 0],
    ['Therefore, the answer is 100.', 1.0, '100', 1],
  ];
  test.each(CASES)('%j vs %f', (response, gt, pred, score) => {
    const s = scoreSample('docmath', response, pyFloatStr(gt));
    expect(s.pred).toBe(pred);
    expect(s.rule['as-coded']).toBe(score);
    expect(s.rule['as-described']).toBe(score);
  });
});

describe('QA scoring (§7b): as-coded rule is always 0 (B1), as-described is strict cover-EM', () => {
  // [response, gt, pred, em, strict, loose, f1]
  const CASES: readonly (readonly [
    string,
    string,
    string | null,
    number,
    number,
    number,
    number,
  ])[] = [
    ['The correct answer is The Eiffel Tower.', 'Eiffel Tower', 'The Eiffel Tower', 1, 1, 1, 1],
    ['The correct answer is Paris, France.', 'Paris', 'Paris, France', 0, 1, 1, 0.67],
    ['The correct answer is Paris.', 'Paris, France', 'Paris', 0, 0, 1, 0.67],
    ['The answer is 10 years.', '1', '10 years', 0, 1, 1, 0],
    ['The correct answer is (insert answer here).', 'Paris', null, 0, 0, 0, 0],
    ['The correct answer is yes.', 'no', 'yes', 0, 0, 0, 0],
    [
      'The correct answer is **Jane Ballou**.\nExplanation…',
      'Jane Ballou',
      'Jane Ballou',
      1,
      1,
      1,
      1,
    ],
  ];
  test.each(CASES)('%j vs %j', (response, gt, pred, em, strict, loose, f1) => {
    const s = scoreSample('qa', response, gt);
    expect(s.pred).toBe(pred);
    expect(s.qa).toEqual({ em, f1, cemStrict: strict, cemLoose: loose });
    expect(s.rule['as-coded']).toBe(0);
    expect(s.rule['as-described']).toBe(strict);
    expect(needsJudge('qa', s)).toBe(true);
  });

  test('as-coded scores the string "None" when nothing parsed (B14); as-described does not', () => {
    const s = scoreSample('qa', 'no marker at all', 'None');
    expect(s.pred).toBeNull();
    expect(s.qa?.em).toBe(1);
    expect(s.rule['as-described']).toBe(0);
  });

  test('"the answer is" beats the requested "The correct answer is" (marker order)', () => {
    const s = scoreSample(
      'qa',
      'I think the answer is Bob.\nThe correct answer is Alice.',
      'Alice',
    );
    expect(s.pred).toBe('Bob');
  });
});

describe('multiple choice (§6c)', () => {
  const CASES: readonly (readonly [string, string | null])[] = [
    ['The correct answer is (C).', 'C'],
    ['The correct answer is (c).', null],
    ['The correct answer is a bit unclear', null],
    ['The correct answer is Answer D', 'A'],
    ['so \\boxed{B} and the answer is A', 'B'],
  ];
  test.each(CASES)('%j → %j', (response, pred) => {
    const s = scoreSample('mc', response, 'C');
    expect(s.pred).toBe(pred);
    expect(s.rule['as-coded']).toBe(pred === 'C' ? 1 : 0);
    expect(needsJudge('mc', s)).toBe(false);
  });
});

describe('judge parsing (§8)', () => {
  test('reference rule: YES present and NO absent, case-sensitive substrings (B10)', () => {
    expect(parseJudgeReference('Explanation: same.\nDecision: [[YES]]')).toEqual({
      score: 1,
      verdict: 'YES',
    });
    expect(parseJudgeReference('Decision: [[NO]]')).toEqual({ score: 0, verdict: 'NO' });
    expect(parseJudgeReference('NOTE: fine.\nDecision: [[YES]]')).toEqual({
      score: 0,
      verdict: 'NO',
    });
    expect(parseJudgeReference('decision: [[yes]]')).toEqual({ score: 0, verdict: 'INVALID' });
    expect(parseJudgeReference('<think>YES')).toEqual({ score: 0, verdict: 'INVALID' });
    expect(parseJudgeReference('<think>NO</think>Decision: [[YES]]').score).toBe(1);
  });

  test('the robust reading takes the last [[YES]]/[[NO]] in any case', () => {
    expect(parseJudgeStrict('NOTE: fine.\nDecision: [[YES]]')).toBe(1);
    expect(parseJudgeStrict('[[YES]] hmm, actually [[no]]')).toBe(0);
    expect(parseJudgeStrict('YES')).toBeNull();
  });

  test('final score is the per-sample max of rule and judge; a missing judge counts 0', () => {
    expect(finalScore(0, 1)).toBe(1);
    expect(finalScore(1, 0)).toBe(1);
    expect(finalScore(0, null)).toBe(0);
  });
});

describe('prompts', () => {
  test('the judge sees "Question: …" cut from the final prompt, up to the first blank line (B24)', () => {
    const p = evalPrompt('qa', '  the document  ', 'Who wrote it?');
    expect(p).toContain('<text>\nthe document\n</text>\n\nQuestion: Who wrote it?\n\n');
    expect(p.endsWith('\n')).toBe(true);
    expect(judgeQuestion(`<|im_start|>user\n${p}<|im_end|>`, 'Who wrote it?')).toBe(
      'Question: Who wrote it?',
    );
  });

  test('the multiple-choice block has 4-space indents and ends in "\\n    "', () => {
    expect(mcQuestionBlock('Q?', { A: 'a', B: 'b', C: 'c', D: 'd' })).toBe(
      'What is the correct answer to this question: Q?\n    Choices:\n    (A) a\n    (B) b\n    (C) c\n    (D) d\n    ',
    );
  });

  test('the judge prompt fills each field once, even when a field contains a placeholder', () => {
    const p = judgePrompt('Question: {truth}?', 'Paris', 'Paris, France');
    expect(p).toContain('- Question: Question: {truth}?\n');
    expect(p).toContain('- Predicted Answer: Paris\n- Ground Truth Answer: Paris, France\n');
  });
});

describe('Python float formatting of DocMath ground truths', () => {
  test.each([
    [7, '7.0'],
    [0.125, '0.125'],
    [1500.25, '1500.25'],
    [-5, '-5.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e16, '1.5e+16'],
    [1e16, '1e+16'],
    [123456789012345.6, '123456789012345.6'],
    [0, '0.0'],
  ])('%f → %s', (x, want) => {
    expect(pyFloatStr(x)).toBe(want);
  });
});
