import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { writeExperimentTable } from './table.ts';

function summary(dir: string, arm: string, avgs: Record<string, number>, passN: number): void {
  mkdirSync(join(dir, `eval-${arm}`), { recursive: true });
  const tasks = Object.entries(avgs).map(([task, avg]) => ({
    task,
    avg,
    complete: 30,
    passAtK: [avg, passN],
  }));
  const taskMean = tasks.reduce((s, t) => s + t.avg, 0) / tasks.length;
  writeFileSync(
    join(dir, `eval-${arm}`, 'summary.json'),
    JSON.stringify({ n: 2, result: { tasks, taskMean } }),
  );
}

describe('experiment table', () => {
  test('one row per arm with per-task avg@n, the mean, pass@n and training steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-exp-'));
    summary(dir, 'baseline', { qa: 0.1, mc: 0.3 }, 0.4);
    summary(dir, 'spell', { qa: 0.2, mc: 0.5 }, 0.6);
    mkdirSync(join(dir, 'spell'));
    writeFileSync(join(dir, 'spell', 'metrics.jsonl'), '{"step":1}\n{"step":2}\n{"step":3}\n');
    const md = writeExperimentTable(dir, ['baseline', 'spell']);
    expect(md).toContain('| arm | training steps | qa avg@2 | mc avg@2 | mean avg | mean pass@2 |');
    expect(md).toContain('| baseline | - | 10.0 | 30.0 | 20.0 | 40.0 |');
    expect(md).toContain('| spell | 3 | 20.0 | 50.0 | 35.0 | 60.0 |');
    expect(readFileSync(join(dir, 'results.md'), 'utf8')).toBe(md);
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'))).toHaveLength(2);
  });

  test('standard errors from the evaluation summary are shown beside the averages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-exp-'));
    mkdirSync(join(dir, 'eval-warm'));
    const tasks = [{ task: 'qa', avg: 0.25, avgStderr: 0.031, complete: 40, passAtK: [0.25, 0.4] }];
    writeFileSync(
      join(dir, 'eval-warm', 'summary.json'),
      JSON.stringify({ n: 2, result: { tasks, taskMean: 0.25, taskMeanStderr: 0.031 } }),
    );
    const md = writeExperimentTable(dir, ['warm']);
    expect(md).toContain('| warm | - | 25.0 ± 3.1 | 25.0 ± 3.1 | 40.0 |');
  });

  test('a missing arm names the file to produce', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-exp-'));
    expect(() => writeExperimentTable(dir, ['nothing'])).toThrow(/eval-nothing.*summary\.json/);
  });
});
