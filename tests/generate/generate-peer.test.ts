/**
 * `spell generate` end to end against the role-playing TEST PEER (role-peer.ts), which answers
 * with valid questions, partly right responders and equality-checking votes, so kept questions,
 * history growth, near-duplicate and grounding rejections all really happen over HTTP.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DatasetRow, QuestionRecord } from '../../src/generate/index.ts';
import { runSpell, stateRecords, tempDir } from './helpers.ts';
import { RolePeer } from './role-peer.ts';

const dir = tempDir('spell-generate-peer-');
const peer = new RolePeer();
let endpoint = '';

const NAMES = [
  'Aldermoor',
  'Brackwell',
  'Corvina',
  'Dunstable',
  'Eskerton',
  'Falloway',
  'Grisham',
  'Hollis',
];
function cluster(task: string, k: number) {
  return {
    id: `${task}-test`,
    source: 'test',
    task,
    documents: NAMES.map(
      (n, i) =>
        `${n} Report ${i + k}: ${NAMES[(i + 1) % 8]} met ${NAMES[(i + 3) % 8]} in Year ${2000 + i}, spending ${10 + i}.5 million.`,
    ),
  };
}
const corpus = join(dir, 'corpus.jsonl');
const clusters = [cluster('docmath', 1), cluster('qa', 2), cluster('mc', 3)];

beforeAll(async () => {
  writeFileSync(corpus, clusters.map((c) => JSON.stringify(c)).join('\n') + '\n');
  endpoint = await peer.start();
});
afterAll(async () => {
  await peer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const common = (out: string, attempts: number): string[] => [
  'generate',
  '--endpoint',
  endpoint,
  '--model',
  'peer',
  '--data',
  corpus,
  '--out',
  out,
  '--questions',
  '1000',
  '--max-attempts',
  String(attempts),
  '--group-size',
  '4',
  '--votes',
  '3',
  '--docs-per-question',
  '2',
  '--concurrency',
  '1',
  '--no-progress',
];

describe('spell generate against the role-playing test peer', () => {
  const out = join(dir, 'out.jsonl');
  let records: QuestionRecord[] = [];
  let rows: DatasetRow[] = [];
  let stdout = '';

  beforeAll(async () => {
    const run = await runSpell(common(out, 27));
    expect(run.stderr).toContain('token counts are ESTIMATED');
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout;
    records = stateRecords(`${out}.state.jsonl`);
    rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DatasetRow);
  });

  test('every slot is recorded once, and every kept question has 0 < pass rate < 1', () => {
    expect(records.map((r) => r.slot)).toEqual(Array.from({ length: 27 }, (_, i) => i));
    const kept = records.filter((r) => r.status === 'kept');
    expect(kept.length).toBeGreaterThan(0);
    for (const r of kept) expect(r.passRate).toBeGreaterThan(0);
    for (const r of kept) expect(r.passRate).toBeLessThan(1);
    expect(rows.map((r) => r.extra_info.slot)).toEqual(kept.map((r) => r.slot));
  });

  test('rows are in the verl layout, with the whole cluster in the prompt and the peer’s answer as ground truth', () => {
    for (const row of rows) {
      const c = clusters.find((x) => x.id === row.extra_info.cluster_id);
      expect(c).toBeDefined();
      expect(row.prompt).toHaveLength(1);
      expect(row.prompt[0].role).toBe('user');
      for (const d of c?.documents ?? []) expect(row.prompt[0].content).toContain(d);
      expect(row.prompt[0].content).toContain(row.extra_info.question);
      expect(row.data_source).toBe(
        { docmath: 'docmath_qa', qa: 'doc_general_qa', mc: 'doc_mc' }[row.task],
      );
      const made = peer.questions.get(row.extra_info.question);
      expect(made?.answer).toBeDefined();
      const expected = row.task === 'docmath' ? String(Number(made?.answer)) : made?.answer;
      expect(row.reward_model.ground_truth).toBe(expected);
      const docs = [...row.extra_info.questioner_documents, ...row.extra_info.distractor_documents];
      expect(docs.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });

  test('answers and votes are recorded; a vote of YES lifts a rule score of 0', () => {
    const answered = records.filter((r) => r.responses !== undefined);
    expect(answered.length).toBeGreaterThan(0);
    for (const r of answered) {
      expect(r.responses).toHaveLength(4);
      for (const a of r.responses ?? []) {
        expect(a.votes).toHaveLength(a.pred === null ? 0 : 3);
        expect(a.reward).toBe(Math.max(a.ruleScore, a.majority ?? 0));
      }
    }
  });

  test('repeated questions are rejected as near duplicates of an earlier slot on the same cluster', () => {
    const dups = records.filter((r) => r.reason === 'near_duplicate');
    expect(dups.length).toBeGreaterThan(0);
    for (const d of dups) {
      const first = records.find((r) => r.slot === d.duplicateOf?.slot);
      expect(first?.clusterId).toBe(d.clusterId);
      expect(first?.question).toBe(d.question);
    }
  });

  test('the grounding filter and the keep policy reject with their reasons', () => {
    const reasons = new Set(records.map((r) => r.reason));
    expect(reasons).toContain('bad_ground');
    expect(reasons.has('none_correct') || reasons.has('all_correct')).toBe(true);
  });

  test('the history memory grows the questioner context and shapes later prompts', () => {
    const fromHistory = records.filter((r) => r.fromCache);
    expect(fromHistory.length).toBeGreaterThan(0);
    const most = Math.max(...records.map((r) => r.questionerDocuments.length));
    expect(most).toBeGreaterThan(2);
  });

  test('the summary matches the state file', () => {
    const summary = JSON.parse(readFileSync(`${out}.summary.json`, 'utf8')) as {
      kept: number;
      rejectReasons: Record<string, number>;
      usage: Record<string, { calls: number }>;
    };
    expect(summary.kept).toBe(rows.length);
    expect(summary.rejectReasons.near_duplicate).toBe(
      records.filter((r) => r.reason === 'near_duplicate').length,
    );
    expect(summary.usage.questioner.calls).toBe(27);
    expect(stdout).toContain('pass-rate histogram');
    expect(stdout).toContain(`wrote ${rows.length} questions`);
  });

  test('parquet output reads back with the same rows', async () => {
    const pq = join(dir, 'out.parquet');
    const run = await runSpell(common(pq, 9));
    expect(run.code, run.stderr).toBe(0);
    const kept = stateRecords(`${pq}.state.jsonl`).filter((r) => r.status === 'kept');
    const bytes = readFileSync(pq);
    const back = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    });
    expect(back.map((r) => Number(r.extra_info.slot))).toEqual(kept.map((r) => r.slot));
    for (const r of back) expect(r.prompt[0].role).toBe('user');
  });
});
