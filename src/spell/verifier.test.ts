import { describe, expect, test } from 'vitest';
import type { RewardCombine } from './config.ts';
import type { MajorityOptions, Vote } from './verifier.ts';
import { judgeAnswer, majorityVote, parseVote, responderReward } from './verifier.ts';

const CODE: MajorityOptions = { tieRule: 'first-seen', invalidVotes: 'penalise' };
const PAPER: MajorityOptions = { tieRule: 'strict-yes-majority', invalidVotes: 'ignore' };

describe('vote parsing (§5.2, case-sensitive substrings)', () => {
  test.each<[string, Vote]>([
    ['Explanation: same value.\nDecision: [[YES]]', 1],
    ['Explanation: different.\nDecision: [[NO]]', 0],
    ['NOTE: both say 12.\nDecision: [[YES]]', 1],
    ['YES at first, but on reflection [[NO]]', 0],
    ['Decision: [[YES]] ... or maybe [[NO]]', -1],
    ['decision: [[yes]]', -1],
    ['yes', -1],
    ['NONE of these match', 0],
    ['YES', 1],
    ['I cannot tell.', -1],
    ['<think>the answers look the same, [[YES]]', -1],
    ['<think>hmm [[NO]]</think>\nDecision: [[YES]]', 1],
  ])('%j → %d', (text, vote) => {
    expect(parseVote(text)).toBe(vote);
  });
});

describe('majority vote', () => {
  const tieYesFirst: Vote[] = [1, 0, 1, 0, 1, 0, 1, 0];
  const tieNoFirst: Vote[] = [0, 1, 0, 1, 0, 1, 0, 1];

  test('a 4-4 tie goes to the first-seen value under the code rule', () => {
    expect(majorityVote(tieYesFirst, CODE)).toBe(1);
    expect(majorityVote(tieNoFirst, CODE)).toBe(0);
  });

  test('a 4-4 tie is NO under the strict YES-majority rule', () => {
    expect(majorityVote(tieYesFirst, PAPER)).toBe(0);
    expect(majorityVote(tieYesFirst, { ...PAPER, invalidVotes: 'penalise' })).toBe(0);
    expect(majorityVote([1, 1, 1, 1, 1, 0, 0, 0], PAPER)).toBe(1);
  });

  test('invalid votes are candidates when penalised and left out when ignored', () => {
    const mostlyInvalid: Vote[] = [-1, -1, -1, 1, 1, 0, -1, 0];
    expect(majorityVote(mostlyInvalid, CODE)).toBe(-1);
    expect(majorityVote(mostlyInvalid, { ...CODE, invalidVotes: 'ignore' })).toBe(1);
    expect(
      majorityVote([-1, -1, -1, -1, -1, 1, 1, 0], { ...PAPER, invalidVotes: 'penalise' }),
    ).toBe(-1);
    expect(majorityVote([-1, -1, -1, -1, -1, 1, 1, 0], PAPER)).toBe(1);
  });

  test('no valid vote at all gives no majority under every option', () => {
    for (const opts of [CODE, PAPER, { ...CODE, invalidVotes: 'ignore' as const }]) {
      expect(majorityVote([-1, -1, -1], opts)).toBe(-1);
      expect(majorityVote([], opts)).toBe(-1);
    }
  });
});

describe('responder reward', () => {
  test('max(rule, majority) with a valid majority, the rule score otherwise', () => {
    expect(responderReward(0, 1)).toBe(1);
    expect(responderReward(1, 0)).toBe(1);
    expect(responderReward(0, 0)).toBe(0);
    expect(responderReward(0, -1)).toBe(0);
    expect(responderReward(1, -1)).toBe(1);
    expect(responderReward(0, undefined)).toBe(0);
  });

  test.each<[RewardCombine, number, number, number]>([
    // combine, rule, majority, reward
    ['max', 0, 1, 1],
    ['mean', 0, 1, 0.5],
    ['mean', 1, 1, 1],
    ['min', 0, 1, 0],
    ['min', 1, 0, 0],
    ['min', 1, 1, 1],
    ['sum', 1, 1, 2],
    ['rule', 0, 1, 0],
    ['rule', 1, 0, 1],
  ])('%s(rule %d, majority %d) = %d', (combine, rule, majority, reward) => {
    expect(responderReward(rule, majority as Vote, combine)).toBe(reward);
  });

  test('without a valid majority every combination falls back to the rule score', () => {
    for (const c of ['max', 'mean', 'min', 'sum', 'rule'] as const) {
      expect(responderReward(1, -1, c)).toBe(1);
      expect(responderReward(0, undefined, c)).toBe(0);
    }
  });
});

describe('judgeAnswer (one judgement for training and spell generate)', () => {
  const verifier = { tieRule: 'first-seen', invalidVotes: 'penalise' } as const;
  test('majority and reward follow rewardCombine', () => {
    // A YES majority on a rule-wrong answer: max pays it, rule does not, min and mean in between.
    const votes = [1, 1, 0] as const;
    expect(judgeAnswer(0, votes, { ...verifier, rewardCombine: 'max' })).toEqual({
      majority: 1,
      reward: 1,
    });
    expect(judgeAnswer(0, votes, { ...verifier, rewardCombine: 'rule' }).reward).toBe(0);
    expect(judgeAnswer(0, votes, { ...verifier, rewardCombine: 'mean' }).reward).toBe(0.5);
    expect(judgeAnswer(0, votes, { ...verifier, rewardCombine: 'min' }).reward).toBe(0);
  });
  test('no valid majority leaves the rule score', () => {
    expect(judgeAnswer(1, [-1, -1], { ...verifier, rewardCombine: 'min' })).toEqual({
      majority: -1,
      reward: 1,
    });
  });
});
