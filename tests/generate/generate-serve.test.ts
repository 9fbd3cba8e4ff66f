/**
 * `spell generate` end to end against `spell serve` (the bundled random model and corpus, on
 * 127.0.0.1): a run killed mid-way and resumed equals an uninterrupted one (no duplicates, no
 * losses); an endpoint that fails part of the time is ridden out by retries; an endpoint that is
 * down stops the run with a --resume hint, and resuming later fills in exactly the failed slots.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { QuestionRecord } from '../../src/generate/index.ts';
import { FlakyProxy } from './flaky-proxy.ts';
import {
  runSpell,
  spawnSpell,
  startServe,
  stateRecords,
  tempDir,
  waitFor,
  type Serve,
} from './helpers.ts';

const dir = tempDir('spell-generate-serve-');
let serve: Serve;

beforeAll(async () => {
  serve = await startServe();
}, 60_000);
afterAll(async () => {
  await serve.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Question slots of the kill-and-resume run: enough that the run is still going when the test,
 * polling every 100 ms, kills it after three (8 slots all finished first on a quiet machine).
 */
const SLOTS = 32;
const ALL_SLOTS = Array.from({ length: SLOTS }, (_, i) => i);

function args(endpoint: string, out: string, attempts: number, extra: string[] = []): string[] {
  return [
    'generate',
    '--endpoint',
    endpoint,
    '--model',
    'model',
    '--out',
    out,
    '--max-attempts',
    String(attempts),
    '--group-size',
    '2',
    '--votes',
    '2',
    '--max-tokens',
    '8',
    '--max-prompt-tokens',
    '3000',
    '--docs-per-question',
    '2',
    '--concurrency',
    '2',
    '--seed',
    '5',
    '--no-progress',
    ...extra,
  ];
}

/** What a slot asked and got, independent of timing. */
const essence = (r: QuestionRecord) => ({
  slot: r.slot,
  task: r.task,
  clusterId: r.clusterId,
  questionerDocuments: r.questionerDocuments,
  questionerOutput: r.questionerOutput,
  status: r.status,
  reason: r.reason,
});

describe('spell generate against spell serve', () => {
  test('a run killed mid-way and resumed records every slot once, as an uninterrupted run does', async () => {
    const whole = join(dir, 'whole.jsonl');
    const first = await runSpell(args(serve.url, whole, SLOTS));
    expect(first.code, first.stderr).toBe(0);
    const reference = stateRecords(`${whole}.state.jsonl`).sort((a, b) => a.slot - b.slot);
    expect(reference.map((r) => r.slot)).toEqual(ALL_SLOTS);
    // The random model writes noise: questions are asked and rejected, none kept.
    expect(reference.every((r) => r.status === 'rejected')).toBe(true);

    const cut = join(dir, 'cut.jsonl');
    const state = `${cut}.state.jsonl`;
    const { child, done } = spawnSpell(args(serve.url, cut, SLOTS));
    await waitFor(() => stateRecords(state).length >= 3, 90_000, '3 finished slots');
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const before = stateRecords(state).length;
    expect(before).toBeLessThan(SLOTS);
    expect(existsSync(cut)).toBe(false);

    const resumed = await runSpell(args(serve.url, cut, SLOTS, ['--resume']));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming');
    const after = stateRecords(state);
    expect(after.map((r) => r.slot).sort((a, b) => a - b)).toEqual(ALL_SLOTS);
    expect(after.sort((a, b) => a.slot - b.slot).map(essence)).toEqual(reference.map(essence));
    expect(existsSync(cut)).toBe(true);
    expect(resumed.stdout).toContain(`questions: ${SLOTS} asked`);
  });

  test('without --resume an existing state file is refused and left untouched', async () => {
    const out = join(dir, 'whole.jsonl');
    const run = await runSpell(args(serve.url, out, SLOTS));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass --resume');
    expect(stateRecords(`${out}.state.jsonl`)).toHaveLength(SLOTS);
  });

  test.each([
    ['--qa-answer-in-documents', 'qaAnswerInDocuments', true, 'qaAnswerInDocuments=true'],
    ['--mc-swap-letter', 'mcWrongLetter', 'swap', 'mcWrongLetter="swap"'],
  ])(
    '%s is part of the run: recorded in the state, checked on resume',
    async (flag, key, value, message) => {
      const out = join(dir, `${key}.jsonl`);
      const run = await runSpell(args(serve.url, out, 2, [flag]));
      expect(run.code, run.stderr).toBe(0);
      const header = JSON.parse(readFileSync(`${out}.state.jsonl`, 'utf8').split('\n')[0]) as {
        identity: Record<string, unknown>;
      };
      expect(header.identity[key]).toBe(value);
      const without = await runSpell(args(serve.url, out, 2, ['--resume']));
      expect(without.code).toBe(2);
      expect(without.stderr).toContain(message);
    },
  );

  test('an endpoint that fails every third request is ridden out by retries', async () => {
    const proxy = new FlakyProxy(serve.url, { kind: 'every-k', k: 3 });
    const url = await proxy.start();
    try {
      const out = join(dir, 'flaky.jsonl');
      const run = await runSpell(args(`${url}/v1`, out, 6, ['--retries', '4']));
      expect(run.code, run.stderr).toBe(0);
      expect(proxy.stats.failed503).toBeGreaterThan(0);
      expect(proxy.stats.dropped).toBeGreaterThan(0);
      const records = stateRecords(`${out}.state.jsonl`);
      expect(records.map((r) => r.slot).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(records.every((r) => r.status !== 'error')).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  test('an endpoint that is down stops the run; --resume later re-runs exactly the failed slots', async () => {
    const proxy = new FlakyProxy(serve.url, { kind: 'down' });
    const url = await proxy.start();
    try {
      const out = join(dir, 'down.jsonl');
      const state = `${out}.state.jsonl`;
      const down = await runSpell(args(`${url}/v1`, out, 12, ['--retries', '0']));
      expect(down.code).toBe(2);
      expect(down.stderr).toContain('re-run with --resume');
      const failed = stateRecords(state);
      expect(failed.length).toBeGreaterThanOrEqual(10);
      expect(failed.every((r) => r.status === 'error')).toBe(true);

      proxy.mode = { kind: 'every-k', k: 1000 };
      const resumed = await runSpell(args(`${url}/v1`, out, 12, ['--retries', '2', '--resume']));
      expect(resumed.code, resumed.stderr).toBe(0);
      const all = stateRecords(state);
      const latest = new Map(all.map((r) => [r.slot, r]));
      expect([...latest.keys()].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 12 }, (_, i) => i),
      );
      expect([...latest.values()].every((r) => r.status !== 'error')).toBe(true);
      // Each slot was finished once: failed slots got exactly one successful re-run.
      const finished = all.filter((r) => r.status !== 'error').map((r) => r.slot);
      expect(new Set(finished).size).toBe(finished.length);
    } finally {
      await proxy.stop();
    }
  });
});
