import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  armEvaluations,
  readEvalSummary,
  renderExperimentPlots,
  trainingAccuracy,
} from './plots.ts';
import { writeExperimentTable } from './table.ts';

function summary(dir: string, name: string, avgs: Record<string, number>, pass: number[]): void {
  mkdirSync(join(dir, name), { recursive: true });
  const tasks = Object.entries(avgs).map(([task, avg]) => ({
    task,
    avg,
    complete: 30,
    passAtK: pass,
  }));
  const taskMean = tasks.reduce((s, t) => s + t.avg, 0) / tasks.length;
  writeFileSync(
    join(dir, name, 'summary.json'),
    JSON.stringify({ n: pass.length, result: { tasks, taskMean } }),
  );
}

function experiment(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spell-plots-'));
  summary(dir, 'eval-baseline', { qa: 0.1, mc: 0.2 }, [0.15, 0.3]);
  summary(dir, 'eval-spell-step-3', { qa: 0.2, mc: 0.3 }, [0.25, 0.4]);
  summary(dir, 'eval-spell', { qa: 0.3, mc: 0.5 }, [0.4, 0.6]);
  mkdirSync(join(dir, 'spell'));
  const metrics = [1, 2, 3, 4, 5, 6].map((step) =>
    JSON.stringify({ step, 'responder/task/qa/rule_accuracy': step / 10 }),
  );
  writeFileSync(join(dir, 'spell', 'metrics.jsonl'), `${metrics.join('\n')}\n`);
  return dir;
}

describe('experiment plots', () => {
  test('held-out points: baseline at step 0, intermediate checkpoints, the final at the last step', () => {
    const dir = experiment();
    const base = readEvalSummary(join(dir, 'eval-baseline', 'summary.json'), 0);
    const points = armEvaluations(dir, 'spell', base);
    expect(points.map((p) => p.step)).toEqual([0, 3, 6]);
    expect(points.map((p) => p.taskMean)).toEqual([
      expect.closeTo(0.15, 12),
      expect.closeTo(0.25, 12),
      expect.closeTo(0.4, 12),
    ]);
    expect(points[2].avg.get('mc')).toBe(0.5);
    expect(points[2].passAtK).toEqual([0.4, 0.6]);
  });

  test('training accuracy is a moving average of the per-step metric, in percent', () => {
    const dir = experiment();
    const acc = trainingAccuracy(dir, 'spell', 'qa', 2);
    expect(acc.map(([s]) => s)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(acc[0][1]).toBeCloseTo(10, 9);
    expect(acc[5][1]).toBeCloseTo(55, 9); // mean of 50 and 60
    expect(trainingAccuracy(dir, 'spell', 'mc')).toEqual([]);
  });

  test('results.html has one chart per view, three held-out points for the arm and a pass@k axis', () => {
    const dir = experiment();
    writeExperimentTable(dir, ['baseline', 'spell']);
    const html = readFileSync(join(dir, 'results.html'), 'utf8');
    expect(html).toBe(renderExperimentPlots(dir, ['baseline', 'spell']));
    const charts = html.match(/<svg [^>]*aria-label="([^"]*)"/g) ?? [];
    expect(charts).toHaveLength(1 + 2 + 1 + 2); // mean, per task, pass@k, training per task
    const mean = html.slice(html.indexOf('aria-label="Held-out accuracy, mean'));
    const firstChart = mean.slice(0, mean.indexOf('</svg>'));
    expect(firstChart.match(/<circle class="point"/g)).toHaveLength(3);
    const pass = html.slice(html.indexOf('aria-label="Held-out pass@k'));
    const passChart = pass.slice(0, pass.indexOf('</svg>'));
    expect(passChart).toContain('>k</text>');
    expect(passChart.match(/data-name="(baseline|spell)"/g)).toEqual([
      'data-name="baseline"',
      'data-name="spell"',
    ]);
    expect(html).not.toMatch(/<script|src=|href=/);
  });

  test('a corrupt metrics line names the file and line', () => {
    const dir = experiment();
    writeFileSync(join(dir, 'spell', 'metrics.jsonl'), '{"step":1}\n{"step":\n');
    expect(() => trainingAccuracy(dir, 'spell', 'qa')).toThrow(
      /spell\/metrics\.jsonl:2 is not valid JSON/,
    );
  });

  test('a corrupt summary names its file', () => {
    const dir = experiment();
    writeFileSync(join(dir, 'eval-spell-step-3', 'summary.json'), '{"result":');
    expect(() => armEvaluations(dir, 'spell')).toThrow(/eval-spell-step-3.*summary\.json/);
  });
});
