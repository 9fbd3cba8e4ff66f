import { describe, expect, test } from 'vitest';
import { DEFAULT_ALGORITHM_CONFIG } from '../spell/config.ts';
import { HistoryMemory } from '../spell/history.ts';
import { NearDuplicateIndex } from './near-duplicate.ts';
import { clusterKey, replayRecord } from './question-flow.ts';
import { emptyUsage, type QuestionRecord } from './record.ts';

function rec(slot: number, over: Partial<QuestionRecord>): QuestionRecord {
  return {
    type: 'question',
    slot,
    status: 'rejected',
    task: 'qa',
    clusterId: 'c',
    source: 's',
    clusterDocuments: 6,
    questionerDocuments: [1, 4],
    distractorDocuments: [0, 2, 3, 5],
    fromCache: false,
    historyExamples: 0,
    usage: emptyUsage(),
    elapsedMs: 1,
    ...over,
  };
}

const asked = (q: string) => ({ question: q, responderQuestion: q, referenceAnswer: 'x' });

describe('replaying the state file on resume', () => {
  const history = DEFAULT_ALGORITHM_CONFIG;

  test('solved questions re-enter the history memory with their documents', () => {
    const memory = new HistoryMemory(3);
    const dups = new NearDuplicateIndex();
    replayRecord(
      rec(0, { ...asked('alpha one'), status: 'kept', passRate: 0.5 }),
      memory,
      dups,
      history,
    );
    replayRecord(
      rec(1, { ...asked('beta two'), reason: 'all_correct', passRate: 1 }),
      memory,
      dups,
      history,
    );
    replayRecord(
      rec(2, { ...asked('gamma three'), reason: 'none_correct', passRate: 0 }),
      memory,
      dups,
      history,
    );
    expect(memory.entries('qa', 'c').map((e) => e.question)).toEqual(['alpha one', 'beta two']);
    expect(memory.evidenceUnion('qa', 'c')).toEqual([1, 4]);
  });

  test('the duplicate index gets what the live run registered, and nothing from failed slots', () => {
    const memory = new HistoryMemory(3);
    const dups = new NearDuplicateIndex();
    const key = clusterKey('qa', 'c');
    replayRecord(
      rec(0, { ...asked('grounded question here'), reason: 'answerable_without_documents' }),
      memory,
      dups,
      history,
    );
    replayRecord(
      rec(1, { ...asked('duplicate question here'), reason: 'near_duplicate' }),
      memory,
      dups,
      history,
    );
    replayRecord(
      rec(2, { ...asked('too long answer question'), reason: 'invalid_answer' }),
      memory,
      dups,
      history,
    );
    replayRecord(
      rec(3, { ...asked('failed slot question'), status: 'error' }),
      memory,
      dups,
      history,
    );
    expect(dups.check(key, 'grounded question here')?.slot).toBe(0);
    expect(dups.check(key, 'duplicate question here')).toBeUndefined();
    expect(dups.check(key, 'too long answer question')).toBeUndefined();
    expect(dups.check(key, 'failed slot question')).toBeUndefined();
  });
});
