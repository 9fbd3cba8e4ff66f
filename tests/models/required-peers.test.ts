import { describe, expect, test } from 'vitest';
import { requiredBy } from '../../src/model/testing/required-peers.ts';

describe('SPELL_REQUIRE_PEERS', () => {
  test('a list requires exactly the peers it names', () => {
    const ci = 'smollm2, tinker-json,tinker';
    expect(requiredBy(ci, 'tinker')).toBe(true);
    expect(requiredBy(ci, 'tinker-json')).toBe(true);
    expect(requiredBy(ci, 'smollm2')).toBe(true);
    expect(requiredBy(ci, 'skyrl')).toBe(false);
    expect(requiredBy(ci, 'reference')).toBe(false);
  });

  test('1 or all require every peer; unset or empty none', () => {
    for (const all of ['1', 'all']) expect(requiredBy(all, 'skyrl')).toBe(true);
    for (const none of [undefined, '', ' , ']) expect(requiredBy(none, 'tinker')).toBe(false);
  });
});
