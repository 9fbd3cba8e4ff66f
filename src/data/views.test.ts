import { describe, expect, test } from 'vitest';
import type { Cluster } from './cluster.ts';
import { responderContext } from './views.ts';

const cluster: Cluster = {
  id: 'c',
  source: 'synth_mixed',
  documents: Array.from({ length: 4 }, (_, i) => `doc ${i}`),
};

describe('responder context', () => {
  test('is every document in original order', () => {
    expect(responderContext(cluster)).toBe('doc 0\ndoc 1\ndoc 2\ndoc 3');
  });
});
