import { appendFileSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RunSource } from './run-source.ts';

function runDir(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'spell-run-source-')), 'run');
  mkdirSync(join(root, 'rollouts'), { recursive: true });
  return root;
}

const sample = (role: string, label: string | null): string =>
  JSON.stringify({ role, uid: 'q0', task: 'qa', label, reward: 1 });

function writeStep(root: string, step: number, lines: readonly string[]): void {
  const path = join(root, 'rollouts', `step-${String(step).padStart(6, '0')}.jsonl`);
  writeFileSync(`${path}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
}

describe('RunSource', () => {
  test('metrics are read from where the last read stopped; a half-written line waits for its newline', async () => {
    const root = runDir();
    const metrics = join(root, 'metrics.jsonl');
    writeFileSync(metrics, '{"step":1,"a":0.5,"note":"text is dropped"}\n{"step":2,"a"');
    const run = new RunSource(0, root);
    let ch = await run.refresh();
    expect(ch.rows).toEqual([{ step: 1, a: 0.5 }]);
    appendFileSync(metrics, ':0.25}\n{"step":3,"a":1}\n');
    ch = await run.refresh();
    expect(ch.reset).toBe(false);
    expect(ch.rows).toEqual([
      { step: 2, a: 0.25 },
      { step: 3, a: 1 },
    ]);
    expect(run.metrics.map((r) => r.step)).toEqual([1, 2, 3]);
    expect((await run.refresh()).rows).toEqual([]);
  });

  test('a replaced (resumed, truncated) metrics file is read again from the start', async () => {
    const root = runDir();
    const metrics = join(root, 'metrics.jsonl');
    writeFileSync(metrics, '{"step":1}\n{"step":2}\n{"step":3}\n');
    const run = new RunSource(0, root);
    await run.refresh();
    writeFileSync(`${metrics}.tmp`, '{"step":1}\n');
    renameSync(`${metrics}.tmp`, metrics);
    const ch = await run.refresh();
    expect(ch.reset).toBe(true);
    expect(ch.rows.map((r) => r.step)).toEqual([1]);
    expect(run.metrics).toHaveLength(1);
  });

  test('new and rewritten step files are reported and re-indexed; facets come from the data', async () => {
    const root = runDir();
    writeStep(root, 1, [sample('questioner', 'good'), sample('responder', null)]);
    const run = new RunSource(0, root, 1);
    expect((await run.refresh()).steps).toEqual([1]);
    writeStep(root, 2, [sample('questioner', 'brand_new_label')]);
    expect((await run.refresh()).steps).toEqual([2]);
    expect(run.steps()).toEqual([1, 2]);
    expect(await run.summarisePending()).toBe(2);
    expect(run.facets().labels).toEqual({ brand_new_label: 1, good: 2 });
    expect(await run.summarisePending()).toBe(0);
    writeStep(root, 1, [sample('questioner', 'bad_repeat')]);
    expect((await run.refresh()).steps).toEqual([1]);
    expect(await run.summarisePending()).toBe(1);
    expect(run.facets().labels).toEqual({ bad_repeat: 1, brand_new_label: 1 });
    expect((await run.index(1))?.entries.map((e) => e.label)).toEqual(['bad_repeat']);
    // with an LRU of one index, step 2 is rebuilt on demand after step 1 was used
    expect((await run.index(2))?.entries).toHaveLength(1);
    expect(await run.index(3)).toBeUndefined();
  });
});
