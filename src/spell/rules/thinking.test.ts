import { describe, expect, test } from 'vitest';
import { answerRegion, extractSolution } from './thinking.ts';

describe('extractSolution', () => {
  test('an unfinished <think> block gives the literal "Empty"', () => {
    expect(extractSolution('<think>still thinking, the answer is 3')).toBe('Empty');
  });
  test('the text after the LAST </think>, stripped', () => {
    expect(extractSolution('<think>a</think> x </think>\n final \n')).toBe('final');
  });
  test('no think tags: the whole text, stripped', () => {
    expect(extractSolution('  plain answer \n')).toBe('plain answer');
  });
  test('a closing tag without an opening one still cuts there', () => {
    expect(extractSolution('reasoning</think>answer')).toBe('answer');
  });
});

describe('answerRegion', () => {
  test('without </think> or a trigger, the last N characters are read', () => {
    const text = 'x'.repeat(500) + 'tail';
    expect(answerRegion(text, ['answer is'], 10)).toBe('xxxxxxtail');
  });
  test('a trigger word selects the whole stripped text', () => {
    const text = `${'x'.repeat(500)} the answer is 4 `;
    expect(answerRegion(text, ['answer is'], 10)).toBe(text.trim());
  });
  test('triggers are case-sensitive substrings', () => {
    const text = `${'x'.repeat(50)} ANSWER IS 4`;
    expect(answerRegion(text, ['answer is'], 5)).toBe(' IS 4');
  });
  test('an empty region falls back to the whole response', () => {
    expect(answerRegion('the answer is 4</think>', ['answer is'], 300)).toBe(
      'the answer is 4</think>',
    );
  });
  test('unfinished thinking wins over triggers', () => {
    expect(answerRegion('<think>the answer is 4', ['answer is'], 300)).toBe('Empty');
  });
});
