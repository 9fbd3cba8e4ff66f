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

  it('is a run and the same run again, bare or as a chat turn, trained on the repeat only', () => {
    const rng = new Rng(4);
    const lengths = new Set<number>();
    const forms = { bare: 0, chat: 0 };
    for (let i = 0; i < 60; i++) {
      const ex = inductionExample(rng, vocab);
      const prompt = ex.ids.slice(0, ex.promptTokens);
      const chat = ex.ids[ex.ids.length - 1] === vocab.endOfTurn;
      const run = ex.ids.slice(ex.promptTokens, chat ? -1 : undefined);
      lengths.add(run.length);
      expect(run.length).toBeGreaterThanOrEqual(16);
      expect(run.length).toBeLessThanOrEqual(48);
      for (const id of run) expect(id >= vocab.lo && id < vocab.hi).toBe(true);
      if (chat) {
        forms.chat++;
        expect(prompt).toEqual([...vocab.chatBefore, ...run, ...vocab.chatAfter]);
        expect(tok.decode([...prompt])).toContain('Repeat the tokens below exactly');
        expect(tok.decode([...prompt])).toMatch(/<\|im_start\|>assistant\n/);
      } else {
        forms.bare++;
        expect(prompt).toEqual([...vocab.separator, ...run, ...vocab.separator]);
      }
      expect(trainedTokens(ex)).toBe(ex.ids.length - ex.promptTokens);
      const d = toDatum(ex, 1);
      expect(d.weights?.filter((w) => w > 0)).toHaveLength(ex.ids.length - ex.promptTokens);
    }
    expect(forms.bare).toBeGreaterThan(15);
    expect(forms.chat).toBeGreaterThan(15);
    // varying lengths: a fixed-distance copy cannot solve it
    expect(lengths.size).toBeGreaterThan(10);
  });
});
