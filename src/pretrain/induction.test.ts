import { describe, expect, it } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { Rng } from '../core/rng.ts';
import { loadTokenizer } from '../text/index.ts';
import { toDatum, trainedTokens } from './encode.ts';
import { inductionExample, inductionVocab } from './induction.ts';

describe('the induction drill', () => {
  const tok = loadTokenizer(defaultModelDir());
  const vocab = inductionVocab(tok);

  it('draws ordinary merged tokens: above the 256 bytes, below the chat tokens', () => {
    expect(vocab.lo).toBe(256);
    expect(vocab.hi).toBeLessThanOrEqual(tok.requireTokenId('<|im_start|>'));
    expect(tok.decode([...vocab.separator])).toBe('\n\n');
  });

  it('is a run, the separator and the same run, trained on the repeat only', () => {
    const rng = new Rng(4);
    const lengths = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const ex = inductionExample(rng, vocab);
      const run = ex.ids.slice(ex.promptTokens);
      lengths.add(run.length);
      expect(run.length).toBeGreaterThanOrEqual(16);
      expect(run.length).toBeLessThanOrEqual(48);
      expect(ex.ids.slice(0, ex.promptTokens)).toEqual([
        ...vocab.separator,
        ...run,
        ...vocab.separator,
      ]);
      for (const id of run) expect(id >= vocab.lo && id < vocab.hi).toBe(true);
      expect(trainedTokens(ex)).toBe(run.length);
      const d = toDatum(ex, 1);
      expect(d.weights?.filter((w) => w > 0)).toHaveLength(run.length);
    }
    // varying lengths: a fixed-distance copy cannot solve it
    expect(lengths.size).toBeGreaterThan(10);
  });
});
