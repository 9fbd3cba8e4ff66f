import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import { datasetFormat, datasetRows, writeDataset } from './dataset.ts';
import { emptyUsage, type QuestionRecord } from './record.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-generate-dataset-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function kept(slot: number, task: QuestionRecord['task'], answer: string): QuestionRecord {
  return {
    type: 'question',
    slot,
    status: 'kept',
    task,
    clusterId: `c${slot}`,
    source: 'synth',
    clusterDocuments: 4,
    questionerDocuments: [0, 2],
    distractorDocuments: [1, 3],
    fromCache: slot > 3,
    historyExamples: 0,
    question: `question ${slot}`,
    responderQuestion: `question ${slot}`,
    referenceAnswer: answer,
    passRate: 0.375,
    usage: emptyUsage(),
    elapsedMs: 1,
  };
}

const records: QuestionRecord[] = [
  kept(5, 'mc', 'C'),
  { ...kept(2, 'qa', 'x'), status: 'rejected', reason: 'all_correct' },
  kept(1, 'docmath', '12.5'),
];
const rows = datasetRows(records, 8, (r) => `prompt for slot ${r.slot}`);

describe('final dataset', () => {
  test('only kept records, in slot order, in the verl layout', () => {
    expect(
      rows.map((r) => [r.extra_info.slot, r.data_source, r.reward_model.ground_truth]),
    ).toEqual([
      [1, 'docmath_qa', '12.5'],
      [5, 'doc_mc', 'C'],
    ]);
    expect(rows[0].prompt).toEqual([{ role: 'user', content: 'prompt for slot 1' }]);
    expect(rows[1].extra_info).toMatchObject({
      index: 1,
      split: 'train',
      pass_rate: 0.375,
      group_size: 8,
      questioner_documents: [0, 2],
      distractor_documents: [1, 3],
      from_history: true,
    });
  });

  test('JSONL holds one row per line', () => {
    const file = join(dir, 'd.jsonl');
    writeDataset(file, rows);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(JSON.parse(JSON.stringify(rows)));
  });

  test('parquet reads back with nested prompt, reward_model and extra_info', async () => {
    const file = join(dir, 'd.parquet');
    writeDataset(file, rows);
    const bytes = readFileSync(file);
    const back = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    });
    expect(back).toHaveLength(2);
    expect(back[1].prompt).toEqual(rows[1].prompt);
    expect(back[1].reward_model).toEqual({ style: 'rule', ground_truth: 'C' });
    expect(back[1].extra_info.distractor_documents).toEqual([1, 3]);
    expect(back[1].extra_info.slot).toBe(5n);
  });

  test('an output path that is neither .jsonl nor .parquet is refused', () => {
    expect(() => datasetFormat('out.csv')).toThrow(ConfigurationError);
    expect(datasetFormat('OUT.PARQUET')).toBe('parquet');
  });
});
