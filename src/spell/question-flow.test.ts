import { describe, expect, test } from 'vitest';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import {
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
    const right = checkAnswer('qa', 'The answer is \\boxed{Kettle}', q, A);
    expect(right.score).toBe(1);
    expect(verifierPromptFor(q, right)).toContain('Kettle');
    expect(verifierPromptFor(q, { pred: null, gt: 'Kettle' })).toBeUndefined();
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
