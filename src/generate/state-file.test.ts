import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ConfigurationError, DataError } from '../core/errors.ts';
import { emptyUsage, type QuestionRecord } from './record.ts';
import {
  StateWriter,
  checkIdentity,
  latestBySlot,
  loadState,
  type RunIdentity,
} from './state-file.ts';
import { summarise } from './summary.ts';

const dir = mkdtempSync(join(tmpdir(), 'spell-generate-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const identity: RunIdentity = {
  model: 'm',
  tasks: ['qa'],
  seed: 1,
  groupSize: 4,
  votes: 2,
  docsPerQuestion: 3,
  keep: '(0,1)',
  data: ['/corpus'],
};

function record(slot: number, status: QuestionRecord['status']): QuestionRecord {
  return {
    type: 'question',
    slot,
    status,
    task: 'qa',
    clusterId: 'c',
    source: 's',
    clusterDocuments: 3,
    questionerDocuments: [0],
    distractorDocuments: [1, 2],
    fromCache: false,
    historyExamples: 0,
    usage: emptyUsage(),
    elapsedMs: 1,
  };
}

describe('state file', () => {
  test("a state file written with the older reason words resumes and summarises in today's", () => {
    const fixture = resolve(
      import.meta.dirname,
      '../../tests/fixtures/generate/state-v1-legacy-reasons.jsonl',
    );
    const file = join(dir, 'legacy.jsonl');
    writeFileSync(file, readFileSync(fixture, 'utf8'));
    const { records } = loadState(file);
    expect(records.map((r) => r.reason)).toEqual([
      'bad_format',
      'bad_ground',
      'overlong_prompt',
      'near_duplicate',
    ]);
    expect(records[0].detail).toBe('no JSON block');
    const reasons = summarise(records, 4).rejectReasons;
    expect([reasons.bad_format, reasons.bad_ground, reasons.overlong_prompt]).toEqual([1, 1, 1]);
  });

  test('records written are read back in order, after the header', () => {
    const file = join(dir, 'a.jsonl');
    const w = StateWriter.create(file, identity);
    w.write(record(0, 'rejected'));
    w.write(record(1, 'kept'));
    w.close();
    const s = loadState(file);
    expect(s.header.identity).toEqual(identity);
    expect(s.records.map((r) => [r.slot, r.status])).toEqual([
      [0, 'rejected'],
      [1, 'kept'],
    ]);
    expect(s.droppedTornLines).toBe(0);
  });

  test('a torn last line is dropped and the file repaired so appends stay valid', () => {
    const file = join(dir, 'torn.jsonl');
    const w = StateWriter.create(file, identity);
    w.write(record(0, 'kept'));
    w.close();
    appendFileSync(file, '{"type":"question","slot":1,"sta');
    const s = loadState(file);
    expect(s.records.map((r) => r.slot)).toEqual([0]);
    expect(s.droppedTornLines).toBe(1);
    const w2 = StateWriter.append(file);
    w2.write(record(1, 'kept'));
    w2.close();
    expect(loadState(file).records.map((r) => r.slot)).toEqual([0, 1]);
  });

  test('a bad line before the last is a DataError naming file and line', () => {
    const file = join(dir, 'bad.jsonl');
    StateWriter.create(file, identity).close();
    appendFileSync(
      file,
      '{"type":"question","slot":-1}\n' + JSON.stringify(record(1, 'kept')) + '\n',
    );
    expect(() => loadState(file)).toThrow(DataError);
    expect(() => loadState(file)).toThrow(/bad\.jsonl: line 2, field 'slot'/);
  });

  test('creating over an existing state file is refused with a hint to --resume', () => {
    const file = join(dir, 'exists.jsonl');
    writeFileSync(file, 'x\n');
    expect(() => StateWriter.create(file, identity)).toThrow(/--resume/);
    expect(readFileSync(file, 'utf8')).toBe('x\n');
  });

  test('resuming with a different plan names the field and both values', () => {
    expect(() => checkIdentity('f', identity, { ...identity, seed: 2 })).toThrow(
      ConfigurationError,
    );
    expect(() => checkIdentity('f', identity, { ...identity, seed: 2 })).toThrow(
      'seed=1, this run asks for seed=2',
    );
    expect(() => checkIdentity('f', identity, { ...identity })).not.toThrow();
  });

  test('an option recorded only when set is checked from either side', () => {
    const strict = { ...identity, qaAnswerInDocuments: true as const };
    expect(() => checkIdentity('f', strict, identity)).toThrow(
      'qaAnswerInDocuments=true, this run asks for qaAnswerInDocuments=undefined',
    );
    expect(() => checkIdentity('f', identity, strict)).toThrow(/qaAnswerInDocuments/);
    expect(() => checkIdentity('f', strict, { ...strict })).not.toThrow();
  });

  test('a later record of a slot supersedes an earlier one', () => {
    const latest = latestBySlot([record(0, 'error'), record(1, 'kept'), record(0, 'rejected')]);
    expect(latest.get(0)?.status).toBe('rejected');
    expect(latest.size).toBe(2);
  });
});
