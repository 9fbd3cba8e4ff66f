/**
 * The miniature experiment's plots, as one static HTML page of SVG charts (`results.html`):
 * - held-out accuracy over training steps, per task and averaged, one series per arm — from the
 *   evaluations of the baseline (step 0), of intermediate checkpoints (`eval-<arm>-step-<N>`) and
 *   of the final checkpoint (`eval-<arm>`, placed at the arm's last training step);
 * - held-out pass@k against k, per arm (mean over tasks);
 * - the training-time rule accuracy per task (moving average), read from each arm's metrics:
 *   on self-made questions for self-play, on the labeled questions for the RLVR control.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.ts';
import { readMetrics } from '../report/run-report.ts';
import { lineChart, type Series } from '../report/svg-chart.ts';

/** One evaluation summary, reduced to what the plots need. */
export interface EvalPoint {
  readonly step: number;
  /** Task name → avg@n. */
  readonly avg: ReadonlyMap<string, number>;
  readonly taskMean: number;
  /** Mean over tasks of pass@k, k = 1..n. */
  readonly passAtK: readonly number[];
}

export function readEvalSummary(file: string, step: number): EvalPoint {
  let s: { result?: { tasks?: unknown; taskMean?: unknown } };
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as typeof s;
  } catch (e) {
    throw new DataError(`${file}: not readable JSON (${(e as Error).message})`, { file });
  }
  const tasks = s.result?.tasks;
  const taskMean = s.result?.taskMean;
  if (!Array.isArray(tasks) || typeof taskMean !== 'number') {
    throw new DataError(
      `${file} is not a spell eval summary (expected result.tasks, result.taskMean)`,
      {
        file,
      },
    );
  }
  const rows = tasks as { task: string; avg: number; passAtK: number[] }[];
  const kMax = Math.max(0, ...rows.map((r) => r.passAtK.length));
  const passAtK = Array.from({ length: kMax }, (_, i) =>
    rows.length === 0 ? 0 : rows.reduce((a, r) => a + (r.passAtK[i] ?? 0), 0) / rows.length,
  );
  return { step, avg: new Map(rows.map((r) => [r.task, r.avg])), taskMean, passAtK };
}

function metricsOf(outDir: string, arm: string): Record<string, unknown>[] {
  const file = join(outDir, arm, 'metrics.jsonl');
  return existsSync(file) ? readMetrics(file) : [];
}

/** The held-out evaluations of one arm, sorted by step (the baseline is step 0 of every arm). */
export function armEvaluations(outDir: string, arm: string, baseline?: EvalPoint): EvalPoint[] {
  const points: EvalPoint[] = baseline ? [baseline] : [];
  const prefix = `eval-${arm}-step-`;
  for (const name of existsSync(outDir) ? readdirSync(outDir) : []) {
    if (!name.startsWith(prefix)) continue;
    const step = Number(name.slice(prefix.length));
    const file = join(outDir, name, 'summary.json');
    if (Number.isInteger(step) && existsSync(file)) points.push(readEvalSummary(file, step));
  }
  const final = join(outDir, `eval-${arm}`, 'summary.json');
  if (existsSync(final)) {
    const steps = metricsOf(outDir, arm)
      .map((m) => m.step)
      .filter((s): s is number => typeof s === 'number');
    const last = steps.length > 0 ? Math.max(...steps) : 0;
    if (!points.some((p) => p.step === last)) points.push(readEvalSummary(final, last));
  }
  return points.sort((a, b) => a.step - b.step);
}

function movingAverage(points: readonly (readonly [number, number])[], window: number) {
  return points.map(([x], i) => {
    const slice = points.slice(Math.max(0, i - window + 1), i + 1);
    return [x, slice.reduce((a, p) => a + p[1], 0) / slice.length] as const;
  });
}

/** Training-time rule accuracy of one task over steps (moving average over `window` steps). */
export function trainingAccuracy(outDir: string, arm: string, task: string, window = 10) {
  const key = `responder/task/${task}/rule_accuracy`;
  const points = metricsOf(outDir, arm)
    .filter((m) => typeof m.step === 'number' && typeof m[key] === 'number')
    .map((m) => [m.step as number, 100 * (m[key] as number)] as const);
  return movingAverage(points, window);
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Render results.html for the trained arms (the baseline is drawn as every arm's step 0). */
export function renderExperimentPlots(outDir: string, arms: readonly string[]): string {
  const baselineFile = join(outDir, 'eval-baseline', 'summary.json');
  const baseline = existsSync(baselineFile) ? readEvalSummary(baselineFile, 0) : undefined;
  const trained = arms.filter((a) => a !== 'baseline');
  const evals = new Map(trained.map((a) => [a, armEvaluations(outDir, a, baseline)]));
  const tasks = [
    ...new Set([...evals.values()].flatMap((ps) => ps.flatMap((p) => [...p.avg.keys()]))),
  ];
  const heldOut = (pick: (p: EvalPoint) => number | undefined): Series[] =>
    trained.map((a) => ({
      name: a,
      points: (evals.get(a) ?? []).flatMap((p) => {
        const v = pick(p);
        return v === undefined ? [] : [[p.step, 100 * v] as const];
      }),
    }));
  const charts: string[] = [
    lineChart(
      'Held-out accuracy, mean of tasks (avg@n, %)',
      heldOut((p) => p.taskMean),
    ),
    ...tasks.map((t) =>
      lineChart(
        `Held-out ${t} accuracy (avg@n, %)`,
        heldOut((p) => p.avg.get(t)),
      ),
    ),
    lineChart(
      'Held-out pass@k, mean of tasks (%), final checkpoints',
      [
        ...(baseline ? [{ name: 'baseline', p: baseline }] : []),
        ...trained.flatMap((a) => {
          const ps = evals.get(a) ?? [];
          const last = ps[ps.length - 1];
          return last && last.step > 0 ? [{ name: a, p: last }] : [];
        }),
      ].map(({ name, p }) => ({
        name,
        points: p.passAtK.map((v, i) => [i + 1, 100 * v] as const),
      })),
      460,
      260,
      'k',
    ),
    ...tasks.map((t) =>
      lineChart(
        `Training rule accuracy, ${t} (%, 10-step mean)`,
        trained.map((a) => ({ name: a, points: trainingAccuracy(outDir, a, t) })),
      ),
    ),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SPELL in miniature</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}figure{display:inline-block;margin:8px;border:1px solid #ddd;padding:4px}</style>
</head><body>
<h1>SPELL in miniature</h1>
<p>Experiment folder: <code>${esc(outDir)}</code>. Arms: ${trained.map(esc).join(', ')}; the baseline is step 0.
Training rule accuracy is measured on each arm's own training questions (self-made for self-play,
labeled for RLVR), so it is not comparable across arms; the held-out charts are.</p>
<div id="charts">
${charts.map((c) => `<figure>${c}</figure>`).join('\n')}
</div>
</body></html>
`;
}
