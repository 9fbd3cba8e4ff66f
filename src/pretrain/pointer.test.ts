import { describe, expect, it } from 'vitest';
import { defaultModelDir } from '../assets.ts';
import { Rng } from '../core/rng.ts';
import { loadTokenizer } from '../text/index.ts';
import { trainedTokens } from './encode.ts';
import { inductionVocab } from './induction.ts';
import { POINTER_NAME_TOKENS, pointerExample, pointerTask, pointerVocab } from './pointer.ts';

describe('the pointer drill', () => {
  const tok = loadTokenizer(defaultModelDir());
  const base = inductionVocab(tok);
  const vocab = pointerVocab(base, tok);

  it('has records with unique names and one shared template around varying values', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 50; i++) {
      const { records, asked } = pointerTask(rng, vocab);
      expect(records.length).toBeGreaterThanOrEqual(3);
      expect(records.length).toBeLessThanOrEqual(8);
      expect(asked.length).toBeGreaterThanOrEqual(1);
      expect(asked.length).toBeLessThanOrEqual(3);
      expect(new Set(asked).size).toBe(asked.length);
      const names = records.map((r) => r.slice(0, POINTER_NAME_TOKENS).join(','));
      expect(new Set(names).size).toBe(records.length);
      for (const r of records)
        for (const id of r) expect(id >= vocab.lo && id < vocab.hi).toBe(true);
      // The token right after each record's name opens the shared template in every record.
      expect(new Set(records.map((r) => r[POINTER_NAME_TOKENS])).size).toBe(1);
    }
  });

  it('needs the pointer: some target token follows a context that the prompt continues in several ways', () => {
    // Measured over many drills rather than asserted per drill: values may collide by chance.
    const rng = new Rng(5);
    let ambiguous = 0;
    let trained = 0;
    for (let i = 0; i < 40; i++) {
      const ex = pointerExample(rng, vocab, 0);
      const P = ex.promptTokens;
      for (let t = P; t < ex.ids.length; t++) {
        const ctx = ex.ids.slice(t - 3, t).join(',');
        const next = new Set<number>();
        for (let s = 3; s < P; s++)
          if (ex.ids.slice(s - 3, s).join(',') === ctx) next.add(ex.ids[s]);
        if (next.size > 1) ambiguous++;
        trained++;
      }
    }
    // Two values per record, each behind the shared template: about one target token in five.
    expect(ambiguous / trained).toBeGreaterThan(0.1);
  });

  it('is bare or a chat turn; the target is the asked records in order, the loss on them only', () => {
    const rng = new Rng(8);
    const forms = { bare: 0, chat: 0 };
    for (let i = 0; i < 60; i++) {
      const state = rng.state();
      const { records, asked } = pointerTask(rng, vocab);
      rng.setState(state);
      const ex = pointerExample(rng, vocab);
      expect(ex.role).toBe('pointer');
      const sep = vocab.separator;
      const target = asked.flatMap((k, j) => (j === 0 ? [...records[k]] : [...sep, ...records[k]]));
      const chat = ex.ids[ex.ids.length - 1] === vocab.endOfTurn;
      const trainedIds = ex.ids.slice(ex.promptTokens, chat ? -1 : undefined);
      expect(trainedIds).toEqual(target);
      const prompt = tok.decode(ex.ids.slice(0, ex.promptTokens));
      if (chat) {
        forms.chat++;
        expect(prompt).toContain('Repeat those records in full');
        expect(prompt).toMatch(/<\|im_start\|>assistant\n/);
      } else {
        forms.bare++;
        expect(prompt).not.toContain('<|im_start|>');
      }
      expect(trainedTokens(ex)).toBe(ex.ids.length - ex.promptTokens);
    }
    expect(forms.bare).toBeGreaterThan(10);
    expect(forms.chat).toBeGreaterThan(10);
  });

  it('is deterministic for a seed and all bare at chat share 0', () => {
    const a = Array.from({ length: 5 }, (_, i) => pointerExample(new Rng(i), vocab, 0));
    const b = Array.from({ length: 5 }, (_, i) => pointerExample(new Rng(i), vocab, 0));
    expect(a).toEqual(b);
    for (const ex of a) expect(ex.ids[ex.ids.length - 1]).not.toBe(vocab.endOfTurn);
  });
});
