import { describe, expect, test } from 'vitest';
import { DataError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import type { Cluster } from './cluster.ts';
import {
  NO_DOCUMENTS,
  assertQuestionerFits,
  fitResponderPrompt,
  responderContext,
  selectQuestionerDocs,
} from './views.ts';

// Self-describing documents: document i reads "doc i".
const cluster: Cluster = {
  id: 'c1',
  source: 'synth_wiki',
  documents: Array.from({ length: 10 }, (_, i) => `doc ${i}`),
};
const words = (t: string) => t.split(/\s+/).length;

describe('questioner documents', () => {
  test('k new documents, sorted, newline-joined, text matching the indices', () => {
    const view = selectQuestionerDocs(cluster, 3, new Rng(1));
    expect(view.indices.length).toBe(3);
    expect(view.newIndices).toEqual(view.indices);
    expect([...view.indices]).toEqual([...view.indices].sort((a, b) => a - b));
    expect(view.text).toBe(view.indices.map((i) => `doc ${i}`).join('\n'));
  });

  test('with history: the evidence union plus k documents drawn from the rest', () => {
    const view = selectQuestionerDocs(cluster, 2, new Rng(2), [7, 1, 7]);
    expect(view.indices.length).toBe(4);
    expect(view.indices).toContain(1);
    expect(view.indices).toContain(7);
    expect(view.newIndices.length).toBe(2);
    for (const i of view.newIndices) expect([1, 7]).not.toContain(i);
  });

  test('k larger than what is left takes what is left; a used-up cluster adds nothing', () => {
    const all = Array.from({ length: 10 }, (_, i) => i);
    expect(selectQuestionerDocs(cluster, 5, new Rng(3), all.slice(0, 8)).newIndices.length).toBe(2);
    const full = selectQuestionerDocs(cluster, 5, new Rng(3), all);
    expect(full.newIndices).toEqual([]);
    expect(full.text).toBe(responderContext(cluster));
  });

  test('the draw is seeded', () => {
    const a = selectQuestionerDocs(cluster, 3, new Rng(11)).indices;
    expect(selectQuestionerDocs(cluster, 3, new Rng(11)).indices).toEqual(a);
  });

  test('an evidence index outside the cluster names the cluster', () => {
    expect(() => selectQuestionerDocs(cluster, 2, new Rng(1), [10])).toThrow(
      /cluster 'c1': evidence index 10 is outside its 10 documents/,
    );
    expect(() => selectQuestionerDocs(cluster, 0, new Rng(1))).toThrow(DataError);
  });
});

describe('responder context and budgets', () => {
  test('responder context is every document in original order', () => {
    expect(responderContext(cluster)).toBe(
      'doc 0\ndoc 1\ndoc 2\ndoc 3\ndoc 4\ndoc 5\ndoc 6\ndoc 7\ndoc 8\ndoc 9',
    );
    expect(NO_DOCUMENTS).toBe('Empty');
  });

  test('an over-long responder prompt is reported as not fitting, not thrown', () => {
    expect(fitResponderPrompt('a b c', words, 3)).toEqual({ fits: true, tokens: 3 });
    expect(fitResponderPrompt('a b c d', words, 3)).toEqual({ fits: false, tokens: 4 });
  });

  test('an over-long questioner prompt is a DataError naming the cluster and the limit', () => {
    expect(assertQuestionerFits('c1', 'a b', words, 2)).toBe(2);
    expect(() => assertQuestionerFits('c1', 'a b c', words, 2)).toThrow(
      /cluster 'c1': questioner prompt is 3 tokens, over the 2-token prompt limit/,
    );
  });
});
