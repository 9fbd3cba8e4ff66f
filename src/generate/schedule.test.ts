import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { SlotSchedule } from './schedule.ts';

describe('slot schedule', () => {
  const sizes = { docmath: 3, qa: 2, mc: 4 };

  test('tasks rotate slot by slot in the requested order', () => {
    const s = new SlotSchedule(7, ['qa', 'mc'], sizes);
    expect([0, 1, 2, 3, 4].map((i) => s.at(i).task)).toEqual(['qa', 'mc', 'qa', 'mc', 'qa']);
  });

  test('each pass over a task visits every cluster exactly once', () => {
    const s = new SlotSchedule(7, ['docmath', 'qa', 'mc'], sizes);
    const mc = Array.from({ length: 12 }, (_, j) => s.at(2 + 3 * j).clusterIndex);
    for (let pass = 0; pass < 3; pass++) {
      expect(mc.slice(4 * pass, 4 * pass + 4).sort()).toEqual([0, 1, 2, 3]);
    }
  });

  test('the plan depends only on seed and slot (a fresh schedule agrees)', () => {
    const a = new SlotSchedule(11, ['docmath', 'qa', 'mc'], sizes);
    const b = new SlotSchedule(11, ['docmath', 'qa', 'mc'], sizes);
    const slots = [40, 3, 17, 0, 99];
    expect(slots.map((i) => b.at(i))).toEqual(slots.map((i) => a.at(i)));
  });

  test('a requested task without clusters is a ConfigurationError', () => {
    expect(() => new SlotSchedule(1, ['qa'], { ...sizes, qa: 0 })).toThrow(ConfigurationError);
    expect(() => new SlotSchedule(1, [], sizes)).toThrow(ConfigurationError);
  });
});
