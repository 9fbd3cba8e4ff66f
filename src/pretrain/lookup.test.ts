import { describe, expect, it } from 'vitest';
import type { EncodedExample } from './encode.ts';
import { ambiguousPositions } from './lookup.ts';

function ex(prompt: number[], target: number[]): EncodedExample {
  return { role: 'quote', ids: [...prompt, ...target], promptTokens: prompt.length };
}

describe('ambiguous lookup positions', () => {
  // Two records share the template 7 8; their values differ (1 vs 2).
  const prompt = [50, 7, 8, 1, 60, 51, 7, 8, 2, 61];

  it('flags a target token whose context the prompt continues in two ways', () => {
    // Target 51 7 8 2: position predicting "2" has the context 7 8 (k = 2): ambiguous.
    const e = ex(prompt, [51, 7, 8, 2]);
    const flags = ambiguousPositions(e, 2);
    const P = prompt.length;
    // Position t predicts ids[t + 1]; the target's "2" is ids[P + 3], predicted at P + 2.
    expect(flags[P + 2]).toBe(true);
    expect(flags.filter(Boolean)).toHaveLength(1);
  });

  it('a longer context that reaches the record name resolves it', () => {
    const flags = ambiguousPositions(ex(prompt, [51, 7, 8, 2]), 3);
    expect(flags.some(Boolean)).toBe(false);
  });

  it('prompt positions and contexts absent from the prompt are never flagged', () => {
    const flags = ambiguousPositions(ex(prompt, [99, 98, 97]), 2);
    expect(flags.some(Boolean)).toBe(false);
    expect(flags).toHaveLength(prompt.length + 3 - 1);
  });
});
