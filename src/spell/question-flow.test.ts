import { describe, expect, test } from 'vitest';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import {
  answerStatements,
  checkAgainst,
  checkAnswer,
  groundingVerdict,
  judgeReplies,
  parseLabel,
  parseQuestion,
  qaAnswerTooLong,
  questionerPromptFor,
  responderPromptFor,
  settleQuestion,
  verifierPromptFor,
  type ParsedQuestion,
} from './question-flow.ts';

const A = DEFAULT_ALGORITHM_CONFIG;
const DOCS = ['Ada Vale was born in Kettle.', 'Kettle lies on the river Brisk.', 'Noise.'];
const fenced = (json: string) => '```json\n' + json + '\n```';

function parsed(reply: string): ParsedQuestion {
  const p = parseQuestion('qa', reply, A, { documents: DOCS[0] });
  if (p.kind !== 'ok') throw new Error(p.kind);
  return p;
}

describe('the question flow, phase by phase', () => {
  test('A: the questioner sees the drawn documents in index order', () => {
    const { documents, text } = questionerPromptFor(
      'qa',
      DOCS,
      { documentIndices: [1, 0], examples: [] },
      undefined,
    );
    expect(documents).toBe(`${DOCS[0]}\n${DOCS[1]}`);
    expect(text).toContain(DOCS[1]);
    expect(text).not.toContain('Noise.');
  });

  test('B: parse, label, answer length and the documents rule', () => {
    const ok = parseQuestion('qa', fenced('{"question": "Where?", "answer": "Kettle"}'), A, {
      documents: DOCS[0],
    });
    expect(ok.kind).toBe('ok');
    expect(parseLabel(ok)).toBe('good');
    expect(parseLabel(parseQuestion('qa', 'no json here', A, { documents: '' }))).toBe(
      'bad_format',
    );
    const absent = fenced('{"question": "Where?", "answer": "Paris"}');
    expect(parseQuestion('qa', absent, A, { documents: DOCS[0] }).kind).toBe('ok');
    const strict = { ...A, qaAnswerInDocuments: true };
    expect(parseLabel(parseQuestion('qa', absent, strict, { documents: DOCS[0] }))).toBe(
      'bad_format',
    );
    // With a token counter the parser applies qaMaxAnswerTokens itself.
    const long = parseQuestion('qa', fenced('{"question": "Q?", "answer": "a b c"}'), A, {
      documents: '',
      countTokens: () => 41,
    });
    expect(parseLabel(long)).toBe('invalid_answer');
    expect(qaAnswerTooLong('qa', 41, A)).toBe(true);
    expect(qaAnswerTooLong('qa', 40, A)).toBe(false);
    expect(qaAnswerTooLong('docmath', 99, A)).toBe(false);
  });

  test("B': the grounding verdict uses the rule check and the threshold", () => {
    const q = parsed(fenced('{"question": "Where was Ada born?", "answer": "Kettle"}'));
    expect(groundingVerdict('qa', 'The answer is \\boxed{Kettle}', q, A)).toEqual({
      score: 1,
      badGround: true,
    });
    expect(groundingVerdict('qa', 'The answer is \\boxed{Paris}', q, A).badGround).toBe(false);
  });

  test('C and D: responder prompt over every document; rule check; verifier prompt', () => {
    expect(responderPromptFor('qa', DOCS, 'Where?')).toContain('Noise.');
    const q = parsed(fenced('{"question": "Where was Ada born?", "answer": "Kettle"}'));
    const right = checkAnswer('qa', 'The answer is \\boxed{Kettle}', q, A, false);
    expect(right.score).toBe(1);
    expect(verifierPromptFor(q, right)).toContain('Kettle');
    expect(verifierPromptFor(q, { pred: null, gt: 'Kettle' })).toBeUndefined();
  });

  test('D: a reply cut off at the cap is scored (reference) or zero and unjudged (truncatedAnswers)', () => {
    const q = parsed(fenced('{"question": "Where was Ada born?", "answer": "Kettle"}'));
    // The enumeration SmolLM2's responder learned: strict cover-EM finds the reference in the tail.
    const listing =
      'The correct answer is (Lune). The answer is (Moor). The answer is (Kettle). The';
    expect(checkAnswer('qa', listing, q, A, true).score).toBe(1);
    expect(checkAnswer('qa', listing, q, A, false).score).toBe(1);
    const Z = { ...A, truncatedAnswers: 'zero' as const };
    const cut = checkAnswer('qa', listing, q, Z, true);
    expect(cut).toMatchObject({ score: 0, pred: null });
    expect(verifierPromptFor(q, cut)).toBeUndefined();
    expect(checkAnswer('qa', listing, q, Z, false).score).toBe(1);
    expect(
      checkAgainst('mc', 'The correct answer is (B). The correct answer is (C', 'B', Z, true).score,
    ).toBe(0);
    expect(checkAgainst('mc', 'The correct answer is (B).', 'B', Z, false).score).toBe(1);
  });

  test('D: a reply stating several answers is scored (reference) or zero and unjudged (multipleAnswers)', () => {
    const q = parsed(fenced('{"question": "Where was Ada born?", "answer": "Kettle"}'));
    // The list SmolLM2's responder learned in mc: the extractor takes the last letter.
    const list = 'The correct answer is (C). The correct answer is (A).';
    expect(answerStatements(list)).toBe(2);
    expect(answerStatements('The answer is \\boxed{Kettle}.')).toBe(1);
    expect(answerStatements('\\boxed{Lune} or \\boxed{Kettle}')).toBe(2);
    expect(answerStatements('No idea.')).toBe(0);
    expect(checkAgainst('mc', list, 'A', A, false).score).toBe(1);
    const M = { ...A, multipleAnswers: 'zero' as const };
    const cut = checkAgainst('mc', list, 'A', M, false);
    expect(cut).toMatchObject({ score: 0, pred: null });
    expect(checkAgainst('mc', 'The correct answer is (A).', 'A', M, false).score).toBe(1);
    expect(checkAnswer('qa', 'The answer is \\boxed{Kettle}', q, M, false).score).toBe(1);
    expect(
      checkAnswer('qa', 'The answer is (Lune). The answer is (Kettle).', q, M, false),
    ).toMatchObject({ score: 0, pred: null });
  });

  test("D': the verifier's judgement, rewards and selection", () => {
    const yes = '[[YES]]';
    const no = '[[NO]]';
    const j = judgeReplies(0, [yes, yes, yes, no], A);
    expect(j.votes).toEqual([1, 1, 1, 0]);
    expect(j.majority).toBe(1);
    expect(j.reward).toBe(1); // max(rule 0, majority 1)
    expect(j.voteRewards).toEqual([1, 1, 1, 0]);
    expect(j.agreement).toBe(0.75);
    expect(j.selected).toBe(false); // maj_cons: the majority disagrees with the rule score
    expect(judgeReplies(0, [yes, yes, yes, no], { ...A, rewardCombine: 'rule' }).reward).toBe(0);
    expect(judgeReplies(1, [yes, yes, yes, no], A).selected).toBe(true);
  });

  test('E: pass rate, history push and dynamic sampling', () => {
    expect(settleQuestion([1, 0, 0, 0], A)).toEqual({
      passRate: 0.25,
      pushToHistory: true,
      zeroVariance: false,
    });
    expect(settleQuestion([0, 0], A)).toEqual({
      passRate: 0,
      pushToHistory: false,
      zeroVariance: true,
    });
    expect(settleQuestion([1, 1], A).pushToHistory).toBe(true);
    expect(settleQuestion([1, 1], { ...A, historyPush: 'paper' }).pushToHistory).toBe(false);
  });
});
