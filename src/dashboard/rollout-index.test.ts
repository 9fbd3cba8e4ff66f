import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { indexStepFile, readEntries } from './rollout-index.ts';

function stepFile(lines: readonly string[], tail = '\n'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'spell-index-')), 'step-000001.jsonl');
  writeFileSync(path, lines.join('\n') + tail);
  return path;
}

const LINES = [
  JSON.stringify({
    role: 'questioner',
    uid: 'q0',
    task: 'qa',
    label: 'good',
    reward: 0.5,
    advantage: 1,
    trained: true,
    text: 'Größe — ünïcode',
  }),
  JSON.stringify({
    role: 'responder',
    uid: 'q0',
    task: 'qa',
    index: 0,
    reward: 1,
    text: 'answer one',
  }),
  'not json',
  '',
  JSON.stringify({
    role: 'verifier',
    uid: 'q0-r0-v',
    question_uid: 'q0',
    task: 'qa',
    vote: 1,
    reward: 0,
  }),
  JSON.stringify({ role: 'questioner', uid: 'q1', task: 'mc', label: 'bad_format', reward: null }),
];

describe('indexStepFile', () => {
  test.each([1 << 20, 7, 1])(
    'byte offsets read every sample back exactly, whatever the chunk size (%i bytes)',
    async (chunk) => {
      const path = stepFile(LINES);
      const idx = await indexStepFile(path, 1, chunk);
      expect(idx.entries.map((e) => e.line)).toEqual([0, 1, 4, 5]);
      expect(idx.badLines).toBe(1);
      const back = await readEntries(path, idx.entries);
      expect(back).toEqual([LINES[0], LINES[1], LINES[4], LINES[5]]);
    },
  );

  test('responders and verifiers inherit the label of their question; verifiers key on question_uid', async () => {
    const idx = await indexStepFile(stepFile(LINES), 1);
    expect(idx.entries.map((e) => [e.role, e.uid, e.label])).toEqual([
      ['questioner', 'q0', 'good'],
      ['responder', 'q0', 'good'],
      ['verifier', 'q0', 'good'],
      ['questioner', 'q1', 'bad_format'],
    ]);
    expect(idx.entries[0]).toMatchObject({ reward: 0.5, advantage: 1, trained: true, task: 'qa' });
    expect(idx.entries[3]?.reward).toBeNull();
  });

  test('a last line without a newline is indexed when it parses', async () => {
    const path = stepFile(LINES.slice(0, 2), '');
    const idx = await indexStepFile(path, 1, 5);
    expect(idx.entries).toHaveLength(2);
    expect(await readEntries(path, idx.entries.slice(1))).toEqual([LINES[1]]);
  });
});
