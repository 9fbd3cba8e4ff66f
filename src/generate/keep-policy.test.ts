import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { DEFAULT_KEEP, keeps, parseKeepPolicy } from './keep-policy.ts';

describe('keep policy', () => {
  test('the default keeps exactly the frontier 0 < p < 1', () => {
    const p = parseKeepPolicy(DEFAULT_KEEP);
    expect([0, 0.125, 0.5, 0.875, 1].map((x) => keeps(p, x))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
  });

  test.each([
    ['[0.25,0.75]', [false, true, true, true, false]],
    ['(0,1]', [false, true, true, true, true]],
    ['all', [true, true, true, true, true]],
    ['[0, 0]', [true, false, false, false, false]],
  ] as const)('%s keeps pass rates 0, .25, .5, .75, 1 as %j', (spec, expected) => {
    const p = parseKeepPolicy(spec);
    expect([0, 0.25, 0.5, 0.75, 1].map((x) => keeps(p, x))).toEqual(expected);
  });

  test.each(['0..1', '(0.5,0.2)', '[0,2]', '(0.3,0.3]', 'frontierish'])(
    "'%s' is a ConfigurationError naming the value",
    (spec) => {
      expect(() => parseKeepPolicy(spec)).toThrow(ConfigurationError);
      expect(() => parseKeepPolicy(spec)).toThrow(spec);
    },
  );
});
