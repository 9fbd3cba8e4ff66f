import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.ts';
import { DEFAULT_SYNTH_OPTIONS } from '../data/synth/default.ts';
import { trainingClusters } from './clusters.ts';
import { sentencesOf } from './chain.ts';
import { openingOf, openingWords, quoteExample } from './quote.ts';

// Whitespace-separated words stand in for tokens here: the limits are what is under test.
const words = (t: string): number => t.split(/\s+/).filter((w) => w !== '').length;

describe('the quote drill', () => {
  const clusters = trainingClusters(DEFAULT_SYNTH_OPTIONS, 6);

  it('names shown documents by unique opening words and asks for their openings verbatim', () => {
    const rng = new Rng(5);
    const namedCounts = new Set<number>();
    for (const c of clusters) {
      for (let k = 0; k < 5; k++) {
        const ex = quoteExample(c, rng, words, 30);
        expect(ex.role).toBe('quote');
        const [context, instruction] = (ex.prompt as string).split('\n\nQuote, word for word,');
        const shown = /<text>\n([^]*)\n<\/text>$/.exec(context)?.[1] ?? '';
        expect(shown).not.toBe('');
        const keys = instruction
          .split('\n')
          .slice(1)
          .map((l) => /^- (.*) …$/.exec(l)?.[1]);
        const quotes = ex.target.split('\n');
        expect(quotes).toHaveLength(keys.length);
        namedCounts.add(keys.length);
        keys.forEach((key, j) => {
          // Exactly one shown document opens with the key, and the quote is its opening.
          const docs = c.documents.filter((d) => shown.includes(d) && openingWords(d) === key);
          expect(docs).toHaveLength(1);
          expect(quotes[j]).toBe(openingOf(docs[0], words, 30));
          expect(words(quotes[j])).toBeLessThanOrEqual(30);
          expect(docs[0].replace(/\s*\n\s*/g, ' ').startsWith(quotes[j])).toBe(true);
        });
      }
    }
    expect([...namedCounts].sort()).toEqual([1, 2, 3]);
  });

  it('falls back to one sentence, and to nothing, when openings are too long', () => {
    const doc = 'Fenwick is a town in the region of North Vale. It lies on the river Dane. More.';
    expect(openingOf(doc, words, 30)).toBe(sentencesOf(doc).slice(0, 2).join(' '));
    expect(openingOf(doc, words, 10)).toBe('Fenwick is a town in the region of North Vale.');
    expect(openingOf(doc, words, 5)).toBeUndefined();
  });

  it('always finds something to quote when only one document of the cluster can be quoted', () => {
    const table = `Table 1: Costs\n${'| Item | 2020 | 2021 | 2022 |\n'.repeat(12)}`;
    const docs = [...Array.from({ length: 9 }, () => table), 'Fenwick is a town. It is small.'];
    const rng = new Rng(2);
    for (let k = 0; k < 20; k++) {
      const ex = quoteExample({ ...clusters[0], documents: docs }, rng, words, 30);
      expect(ex.target).toBe('Fenwick is a town. It is small.');
    }
  });

  it('refuses a cluster with nothing it can quote, naming the cluster', () => {
    const c = { ...clusters[0], id: 'qa-x', documents: ['a b c d e f g h.', 'a b c x y z.'] };
    expect(() => quoteExample(c, new Rng(1), words, 30)).toThrow(/qa-x/);
  });
});
