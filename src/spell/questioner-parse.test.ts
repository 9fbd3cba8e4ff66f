import { describe, expect, test } from 'vitest';
import { questionerPrompt } from './prompts/questioner.ts';
import type { QuestionerParseOptions } from './questioner-parse.ts';
import { extractQuestionerRecord, formatMcQuestion, parseQuestioner } from './questioner-parse.ts';

/** Whitespace words stand in for tokens: the parser only needs a count. */
const OPTS: QuestionerParseOptions = {
  countTokens: (t) => t.split(/\s+/).filter(Boolean).length,
  maxAnswerTokens: 40,
};

function fenced(obj: string): string {
  return 'Reasoning first.\n```json\n' + obj + '\n```';
}

describe('JSON extraction (§3.1)', () => {
  test('a trailing comma makes the block unparseable, which is a format error', () => {
    const reply = fenced('{"question": "What?", "answer": "x",}');
    expect(extractQuestionerRecord(reply)).toEqual({});
    expect(parseQuestioner('qa', reply, OPTS)).toMatchObject({ kind: 'format_error' });
  });

  test('the last fenced block that parses wins; a broken last block falls back to an earlier one', () => {
    const two =
      fenced('{"question": "Old?", "answer": "a"}') +
      '\n' +
      fenced('{"question": "New?", "answer": "b"}');
    expect(extractQuestionerRecord(two)).toEqual({ question: 'New?', answer: 'b' });
    const brokenLast =
      fenced('{"question": "Old?", "answer": "a"}') + '\n' + fenced('{"question": ');
    expect(extractQuestionerRecord(brokenLast)).toEqual({ question: 'Old?', answer: 'a' });
    const arrayLast = fenced('{"question": "Old?", "answer": "a"}') + '\n' + fenced('[1, 2]');
    expect(extractQuestionerRecord(arrayLast)).toEqual({ question: 'Old?', answer: 'a' });
  });

  test('without a fenced block the whole text is tried, else {}', () => {
    expect(extractQuestionerRecord(' {"question": "Q?", "answer": "a"} ')).toEqual({
      question: 'Q?',
      answer: 'a',
    });
    expect(extractQuestionerRecord('no json here')).toEqual({});
    expect(parseQuestioner('qa', 'no json here', OPTS)).toMatchObject({ kind: 'format_error' });
  });

  test('thinking is skipped, and control characters are removed before parsing', () => {
    const reply =
      '<think>```json\n{"question": "Inner?", "answer": "no"}\n```</think>' +
      fenced('{"question": "Q\u0001?", "answer": "yes"}');
    expect(extractQuestionerRecord(reply)).toEqual({ question: 'Q?', answer: 'yes' });
  });

  test('an unfinished think block is its own outcome, not a format error', () => {
    expect(parseQuestioner('qa', '<think>still going ```json', OPTS)).toEqual({
      kind: 'unfinished_think',
    });
  });
});

describe('docmath validation', () => {
  test.each([
    ['"35%"', '35'],
    ['"1/3"', '0.3333333333333333'],
    ['"$1,234.5"', '1234.5'],
    ['"12.5 million"', '12.5'],
    ['12', '12'],
    ['-4.5', '-4.5'],
    ['"The answer is 7.25"', '7.25'],
  ])('answer %s → reference "%s"', (answer, reference) => {
    const r = parseQuestioner(
      'docmath',
      fenced(`{"question": "How much?", "answer": ${answer}}`),
      OPTS,
    );
    expect(r).toEqual({
      kind: 'ok',
      question: 'How much?',
      referenceAnswer: reference,
      responderQuestion: 'How much?',
    });
  });

  test.each(['0', '"0"', '"0.0"', '"not a number"', '""'])(
    'answer %s is invalid (dropped, not penalised)',
    (answer) => {
      const r = parseQuestioner(
        'docmath',
        fenced(`{"question": "How much?", "answer": ${answer}}`),
        OPTS,
      );
      expect(r).toMatchObject({ kind: 'invalid_answer' });
    },
  );

  test.each([
    ['{"answer": "12"}', /"question"/],
    ['{"question": 5, "answer": "12"}', /"question" must be a string/],
    ['{"question": "Q?"}', /"answer"/],
    ['{"question": "Q?", "answer": true}', /"answer" must be a string or a number/],
    ['{"question": "Q?", "answer": [12]}', /"answer"/],
  ])('%s is a format error', (obj, reason) => {
    const r = parseQuestioner('docmath', fenced(obj), OPTS);
    expect(r.kind).toBe('format_error');
    if (r.kind === 'format_error') expect(r.reason).toMatch(reason);
  });
});

describe('free-form QA validation', () => {
  test('a short string answer is kept as is', () => {
    expect(
      parseQuestioner('qa', fenced('{"question": "Where?", "answer": "Paris"}'), OPTS),
    ).toEqual({
      kind: 'ok',
      question: 'Where?',
      referenceAnswer: 'Paris',
      responderQuestion: 'Where?',
    });
  });

  test('"the answer is ..." inside the answer field is reduced to the answer', () => {
    const r = parseQuestioner(
      'qa',
      fenced('{"question": "Where?", "answer": "So the answer is Paris."}'),
      OPTS,
    );
    expect(r).toMatchObject({ kind: 'ok', referenceAnswer: 'Paris' });
  });

  test('a numeric or empty answer is a format error', () => {
    expect(parseQuestioner('qa', fenced('{"question": "How many?", "answer": 3}'), OPTS).kind).toBe(
      'format_error',
    );
    expect(
      parseQuestioner('qa', fenced('{"question": "How many?", "answer": ""}'), OPTS).kind,
    ).toBe('format_error');
  });

  test('answers over the token limit are invalid; at the limit they are kept', () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
    const at = parseQuestioner('qa', fenced(`{"question": "Q?", "answer": "${words(40)}"}`), OPTS);
    expect(at.kind).toBe('ok');
    const over = parseQuestioner(
      'qa',
      fenced(`{"question": "Q?", "answer": "${words(41)}"}`),
      OPTS,
    );
    expect(over).toMatchObject({ kind: 'invalid_answer' });
    const strict = parseQuestioner('qa', fenced(`{"question": "Q?", "answer": "${words(5)}"}`), {
      ...OPTS,
      maxAnswerTokens: 4,
    });
    expect(strict.kind).toBe('invalid_answer');
  });
});

describe('multiple-choice validation', () => {
  const options = '{"A": "one", "B": "two", "C": "three", "D": "four"}';

  test('the responder question is rebuilt LongBench-v2 style with the four choices', () => {
    const r = parseQuestioner(
      'mc',
      fenced(`{"question": "Which?", "options": ${options}, "answer": "C"}`),
      {
        ...OPTS,
        targetLetter: 'C',
      },
    );
    expect(r).toEqual({
      kind: 'ok',
      question: 'Which?',
      referenceAnswer: 'C',
      responderQuestion:
        'What is the correct answer to this question: Which?\nChoices:\n(A) one\n(B) two\n(C) three\n(D) four',
    });
  });

  test("an answer letter other than the prompt's target letter is a format error", () => {
    const r = parseQuestioner(
      'mc',
      fenced(`{"question": "Which?", "options": ${options}, "answer": "B"}`),
      {
        ...OPTS,
        targetLetter: 'C',
      },
    );
    expect(r.kind).toBe('format_error');
    if (r.kind === 'format_error') expect(r.reason).toMatch(/required C/);
  });

  test('with wrongLetter swap, the right option moves under the required letter', () => {
    const r = parseQuestioner(
      'mc',
      fenced(`{"question": "Which?", "options": ${options}, "answer": "B"}`),
      { ...OPTS, targetLetter: 'D', wrongLetter: 'swap' },
    );
    expect(r).toEqual({
      kind: 'ok',
      question: 'Which?',
      referenceAnswer: 'D',
      responderQuestion:
        'What is the correct answer to this question: Which?\nChoices:\n(A) one\n(B) four\n(C) three\n(D) two',
      swappedFrom: 'B',
    });
  });

  test('with wrongLetter swap, an obeyed letter is left exactly as written', () => {
    const reply = fenced(`{"question": "Which?", "options": ${options}, "answer": "C"}`);
    const strict = parseQuestioner('mc', reply, { ...OPTS, targetLetter: 'C' });
    const swap = parseQuestioner('mc', reply, { ...OPTS, targetLetter: 'C', wrongLetter: 'swap' });
    expect(swap).toEqual(strict);
    expect(swap).not.toHaveProperty('swappedFrom');
  });

  test('with wrongLetter swap, a letter outside A-D is still a format error', () => {
    const r = parseQuestioner(
      'mc',
      fenced(`{"question": "Which?", "options": ${options}, "answer": "three"}`),
      { ...OPTS, targetLetter: 'C', wrongLetter: 'swap' },
    );
    expect(r.kind).toBe('format_error');
  });

  test('a marked letter ("The correct answer is (D)") is accepted', () => {
    const r = parseQuestioner(
      'mc',
      fenced(
        `{"question": "Which?", "options": ${options}, "answer": "The correct answer is (D)"}`,
      ),
      { ...OPTS, targetLetter: 'D' },
    );
    expect(r).toMatchObject({ kind: 'ok', referenceAnswer: 'D' });
  });

  test.each([
    [`{"question": "Which?", "options": ${options}, "answer": "c"}`],
    [`{"question": "Which?", "options": ${options}, "answer": " C"}`],
    [`{"question": "Which?", "options": ${options}, "answer": "E"}`],
    ['{"question": "Which?", "options": {"A": "1", "B": "2", "C": "3"}, "answer": "C"}'],
    ['{"question": "Which?", "options": ["1", "2", "3", "4"], "answer": "C"}'],
    ['{"question": "Which?", "answer": "C"}'],
  ])('%s is a format error', (obj) => {
    expect(parseQuestioner('mc', fenced(obj), OPTS).kind).toBe('format_error');
  });

  test('formatMcQuestion lists the options in letter order', () => {
    expect(formatMcQuestion('Q', { D: 'd', C: 'c', B: 'b', A: 'a' })).toBe(
      'What is the correct answer to this question: Q\nChoices:\n(A) a\n(B) b\n(C) c\n(D) d',
    );
  });
});

describe('prompt and parser agree', () => {
  test.each(['docmath', 'qa', 'mc'] as const)(
    "a %s reply that copies the prompt's own JSON example parses",
    (task) => {
      const prompt =
        task === 'mc'
          ? questionerPrompt({ task, documents: 'd', targetLetter: 'B' })
          : questionerPrompt({ task, documents: 'd' });
      const example = /```json\n([\s\S]*?)\n```/.exec(prompt)?.[1] ?? '';
      const r = parseQuestioner(task, fenced(example), { ...OPTS, targetLetter: 'B' });
      expect(r.kind).toBe('ok');
    },
  );
});

describe('references taken from the documents (opt-in)', () => {
  const docs = 'Fenwick is a town in the region of North  Vale.\nIt lies on the river Dane.';
  const reply = (answer: string): string =>
    fenced(JSON.stringify({ question: 'Where is Fenwick?', answer }));

  test('a qa reference found in the documents passes, ignoring case and whitespace runs', () => {
    for (const a of ['North Vale', 'north vale', 'Dane', 'The correct answer is North Vale']) {
      expect(parseQuestioner('qa', reply(a), { ...OPTS, documents: docs })).toMatchObject({
        kind: 'ok',
      });
    }
  });

  test('a qa reference the documents never mention is a format error naming it', () => {
    const r = parseQuestioner('qa', reply('Fane'), { ...OPTS, documents: docs });
    expect(r).toEqual({
      kind: 'format_error',
      reason: '"answer" "Fane" does not occur in the documents',
    });
    // Without documents the check is off, as in the reference code.
    expect(parseQuestioner('qa', reply('Fane'), OPTS)).toMatchObject({ kind: 'ok' });
  });

  test('docmath and mc answers are not extractive and are not checked', () => {
    const math = fenced(JSON.stringify({ question: 'Total?', answer: 12.5 }));
    expect(parseQuestioner('docmath', math, { ...OPTS, documents: docs })).toMatchObject({
      kind: 'ok',
    });
  });
});

/**
 * Where spell is deliberately stricter than the reference parser (docs/paper-vs-code.md, "Questioner
 * parser"). Each case states what the reference does with the same reply.
 */
describe('deliberately stricter than the reference', () => {
  test('an empty question is a format error (the reference keeps "" as a question)', () => {
    for (const q of ['""', '"   "']) {
      const r = parseQuestioner('qa', fenced(`{"question": ${q}, "answer": "Paris"}`), OPTS);
      expect(r).toMatchObject({ kind: 'format_error', reason: '"question" is empty' });
    }
  });

  test('null MC options are a format error (the reference shows them as "(A) None")', () => {
    const r = parseQuestioner(
      'mc',
      fenced(
        '{"question": "Which?", "options": {"A": null, "B": "b", "C": "c", "D": "d"}, "answer": "B"}',
      ),
      OPTS,
    );
    expect(r).toMatchObject({ kind: 'format_error', reason: /string for key "A"/ });
  });

  test('a QA answer that is only "... answer is" is dropped (the reference keeps an empty reference, which every answer covers)', () => {
    const r = parseQuestioner(
      'qa',
      fenced('{"question": "Where?", "answer": "The answer is"}'),
      OPTS,
    );
    expect(r.kind).toBe('invalid_answer');
  });

  test('a boolean DocMath answer is a format error (the reference takes true as the number 1)', () => {
    for (const b of ['true', 'false']) {
      const r = parseQuestioner(
        'docmath',
        fenced(`{"question": "How much?", "answer": ${b}}`),
        OPTS,
      );
      expect(r).toMatchObject({ kind: 'format_error', reason: /got boolean/ });
    }
  });

  test('a DocMath reference is written as JavaScript prints the number: "35", where the reference writes "35.0"', () => {
    const r = parseQuestioner(
      'docmath',
      fenced('{"question": "How much?", "answer": "35%"}'),
      OPTS,
    );
    expect(r).toMatchObject({ kind: 'ok', referenceAnswer: '35' });
    const f = parseQuestioner('docmath', fenced('{"question": "How much?", "answer": 35.0}'), OPTS);
    expect(f).toMatchObject({ kind: 'ok', referenceAnswer: '35' });
  });
});
