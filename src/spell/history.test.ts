import { describe, expect, test } from 'vitest';
import { CheckpointError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { DEFAULT_ALGORITHM_CONFIG } from './config.ts';
import { HistoryMemory, selectQuestionerDocuments, shouldPushToHistory } from './history.ts';

const H = DEFAULT_ALGORITHM_CONFIG;

describe('history push rule', () => {
  test.each([
    [0, false, false],
    [0.005, false, true],
    [0.01, true, true],
    [0.5, true, true],
    [1, true, false],
  ])('p = %f: code rule %s, paper rule %s', (p, code, paper) => {
    expect(shouldPushToHistory(p, H)).toBe(code);
    expect(shouldPushToHistory(p, { ...H, historyPush: 'paper' })).toBe(paper);
  });
});

describe('questioner document selection', () => {
  test('first visit draws k sorted distinct documents; a small cluster gives all it has', () => {
    const docs = selectQuestionerDocuments(20, [], 5, new Rng(1));
    expect(docs).toHaveLength(5);
    expect(new Set(docs).size).toBe(5);
    expect([...docs].sort((a, b) => a - b)).toEqual(docs);
    expect(selectQuestionerDocuments(3, [], 5, new Rng(1))).toEqual([0, 1, 2]);
  });

  test('with history it is the union plus k new documents, and nothing new once the cluster is used up', () => {
    const docs = selectQuestionerDocuments(20, [2, 7, 9], 5, new Rng(2));
    expect(docs).toHaveLength(8);
    expect(docs).toEqual(expect.arrayContaining([2, 7, 9]));
    expect(selectQuestionerDocuments(4, [0, 1, 2, 3], 5, new Rng(2))).toEqual([0, 1, 2, 3]);
  });

  test('the same rng seed gives the same draw', () => {
    expect(selectQuestionerDocuments(50, [1], 5, new Rng(9))).toEqual(
      selectQuestionerDocuments(50, [1], 5, new Rng(9)),
    );
  });

  test('evidence outside the cluster is refused', () => {
    expect(() => selectQuestionerDocuments(5, [5], 1, new Rng(1))).toThrow(
      /does not fit a cluster of 5/,
    );
  });
});

describe('history memory', () => {
  test('never stores the same question twice (whitespace-insensitive) and evicts the oldest at capacity', () => {
    const m = new HistoryMemory(3);
    expect(m.push('qa', 'c1', { evidence: [0, 1], question: 'Q1?', answer: 'a' })).toBe('pushed');
    expect(m.push('qa', 'c1', { evidence: [0, 1, 2], question: '  Q1? ', answer: 'b' })).toBe(
      'duplicate',
    );
    // the same answer is fine: MC letters repeat all the time
    expect(m.push('qa', 'c1', { evidence: [3], question: 'Q2?', answer: 'a' })).toBe('pushed');
    m.push('qa', 'c1', { evidence: [4], question: 'Q3?', answer: 'c' });
    m.push('qa', 'c1', { evidence: [5], question: 'Q4?', answer: 'd' });
    expect(m.entries('qa', 'c1').map((e) => e.question)).toEqual(['Q2?', 'Q3?', 'Q4?']);
    // the evicted question may come back
    expect(m.push('qa', 'c1', { evidence: [], question: 'Q1?', answer: 'a' })).toBe('pushed');
    expect(m.entries('qa', 'c1').map((e) => e.question)).toEqual(['Q3?', 'Q4?', 'Q1?']);
  });

  test('clusters and tasks have separate queues', () => {
    const m = new HistoryMemory(3);
    m.push('qa', 'c1', { evidence: [0], question: 'Q?', answer: 'a' });
    expect(m.push('mc', 'c1', { evidence: [0], question: 'Q?', answer: 'a' })).toBe('pushed');
    expect(m.entries('qa', 'c2')).toEqual([]);
    expect(m.clusterCount).toBe(2);
  });

  test('the evidence union never shrinks, through random pushes and evictions', () => {
    const rng = new Rng(5);
    const m = new HistoryMemory(3);
    let previous: number[] = [];
    for (let step = 0; step < 60; step++) {
      const evidence = rng.sample([...Array(30).keys()], 1 + rng.int(4)).sort((a, b) => a - b);
      m.push('docmath', 'c', { evidence, question: `Q${rng.int(10)}?`, answer: '1' });
      const union = m.evidenceUnion('docmath', 'c');
      expect(union).toEqual(expect.arrayContaining(previous));
      expect(m.entries('docmath', 'c').length).toBeLessThanOrEqual(3);
      previous = union;
    }
  });

  test('planDraw shows the union plus k new documents and the entries as examples', () => {
    const m = new HistoryMemory(3);
    const fresh = m.planDraw('qa', 'c', 20, 5, new Rng(3));
    expect(fresh.fromCache).toBe(false);
    expect(fresh.examples).toEqual([]);
    m.push('qa', 'c', { evidence: fresh.documentIndices, question: 'Q1?', answer: 'A1' });
    const next = m.planDraw('qa', 'c', 20, 5, new Rng(4));
    expect(next.fromCache).toBe(true);
    expect(next.examples).toEqual([{ question: 'Q1?', answer: 'A1' }]);
    expect(next.documentIndices).toHaveLength(10);
    expect(next.documentIndices).toEqual(expect.arrayContaining(fresh.documentIndices));
  });

  test('toJSON / fromJSON round-trips through JSON text', () => {
    const m = new HistoryMemory(2);
    m.push('mc', 'c7', { evidence: [1, 4], question: 'Which?', answer: 'B' });
    m.push('mc', 'c7', { evidence: [6], question: 'Which else?', answer: 'D' });
    m.push('docmath', 'c8', { evidence: [0], question: 'How much?', answer: '12.5' });
    const restored = HistoryMemory.fromJSON(JSON.parse(JSON.stringify(m)));
    expect(restored.toJSON()).toEqual(m.toJSON());
    expect(restored.capacity).toBe(2);
    expect(restored.entries('mc', 'c7')[1].evidence).toEqual([1, 4, 6]);
  });

  test.each([
    [{ version: 2, capacity: 3, clusters: [] }, /field "version" must be 1/],
    [{ version: 1, capacity: 0, clusters: [] }, /"capacity" must be a positive integer/],
    [
      { version: 1, capacity: 3, clusters: [{ task: 'poetry', clusterId: 'c', entries: [] }] },
      /clusters\[0\]\.task/,
    ],
    [
      {
        version: 1,
        capacity: 3,
        clusters: [
          {
            task: 'qa',
            clusterId: 'c',
            entries: [{ evidence: [2, 1], question: 'Q', answer: 'A' }],
          },
        ],
      },
      /clusters\[0\]\.entries\[0\]\.evidence" must be ascending/,
    ],
    [
      {
        version: 1,
        capacity: 1,
        clusters: [
          {
            task: 'qa',
            clusterId: 'c',
            entries: [
              { evidence: [1], question: 'Q', answer: 'A' },
              { evidence: [2], question: 'R', answer: 'A' },
            ],
          },
        ],
      },
      /at most 1 entries/,
    ],
  ])('a malformed snapshot is refused with the field named (%#)', (snapshot, message) => {
    expect(() => HistoryMemory.fromJSON(snapshot, 'ckpt/history.json')).toThrow(CheckpointError);
    expect(() => HistoryMemory.fromJSON(snapshot, 'ckpt/history.json')).toThrow(message);
  });
});
