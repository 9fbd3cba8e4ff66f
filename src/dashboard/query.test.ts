import { describe, expect, test } from 'vitest';
import { facet, lineMatchesText, matchesEntry } from './query.ts';
import type { RolloutEntry } from './rollout-index.ts';

const entry = (over: Partial<RolloutEntry>): RolloutEntry => ({
  line: 0,
  offset: 0,
  length: 1,
  role: 'questioner',
  task: 'qa',
  label: 'good',
  reward: 0.5,
  advantage: null,
  trained: false,
  uid: 'q',
  ...over,
});

describe('rollout queries', () => {
  test.each([
    [{}, true],
    [{ role: 'questioner' }, true],
    [{ role: 'responder' }, false],
    [{ task: 'mc' }, false],
    [{ label: 'good' }, true],
    [{ label: 'bad_ground' }, false],
    [{ rewardMin: 0.5 }, true],
    [{ rewardMin: 0.6 }, false],
    [{ rewardMax: 0.4 }, false],
    [{ rewardMin: 0, rewardMax: 1 }, true],
    [{ trained: true }, false],
  ])('filter %j selects the sample: %s', (f, want) => {
    expect(matchesEntry(entry({}), f)).toBe(want);
  });

  test('a reward range never selects samples without a reward; label "none" selects unlabelled ones', () => {
    expect(matchesEntry(entry({ reward: null }), { rewardMin: -10 })).toBe(false);
    expect(matchesEntry(entry({ label: null }), { label: 'none' })).toBe(true);
  });

  test('text search looks in values, not keys, case-insensitively and through JSON escapes', () => {
    const line = JSON.stringify({
      role: 'responder',
      text: 'The answer is Zebra\n"quoted"',
      pred: 'é',
    });
    expect(lineMatchesText(line, 'zebra')).toBe(true);
    expect(lineMatchesText(line, 'responder')).toBe(true);
    expect(lineMatchesText(line, 'role')).toBe(false);
    expect(lineMatchesText(line, '"quoted"')).toBe(true);
    expect(
      lineMatchesText(JSON.stringify({ text: 'caf\u00e9' }).replace('é', '\\u00e9'), 'café'),
    ).toBe(true);
    expect(lineMatchesText(line, 'absent')).toBe(false);
  });

  test('facets count values in sorted order, unlabelled as "none"', () => {
    const es = [
      entry({ label: 'b' }),
      entry({ label: 'a' }),
      entry({ label: null }),
      entry({ label: 'a' }),
    ];
    expect(facet(es, 'label')).toEqual({ a: 2, b: 1, none: 1 });
    expect(Object.keys(facet(es, 'label'))).toEqual(['a', 'b', 'none']);
  });
});
